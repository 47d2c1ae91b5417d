/*
 * store.h -- the only module that touches SQLite.
 *
 * A narrow interface: no sqlite3 type or result code leaves store.c, so that
 * another backend (PostgreSQL) can stand behind the same functions. Errors
 * are enum lectern_error values plus a sentence.
 *
 * (The store helper fills in the rest of this interface.)
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#include "lectern.h"

/*
 * Open (creating if needed) the database at path: WAL, synchronous=FULL,
 * foreign keys on, a short busy timeout, schema migrated forward to the
 * current PRAGMA user_version. ":memory:" is allowed (tests, fuzzing).
 */
int store_open(const char *path, char *err, size_t errlen);
void store_close(void);

/* Transactions: one per command. A busy database gives LECTERN_E_BUSY. */
enum lectern_error store_begin(void);
enum lectern_error store_commit(void);
void store_rollback(void);

#endif
