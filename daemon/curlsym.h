/*
 * curlsym.h -- libcurl, loaded on first use (dlopen) rather than linked.
 *
 * Linking libcurl maps its whole dependency tree (OpenSSL, gnutls through
 * librtmp and libldap, krb5, libssh2, nettle, p11-kit, ...) and runs their
 * constructors at start: megabytes of resident pages in a daemon that may
 * deliver into a maildir and never need any of it. So the delivery
 * module calls libcurl through the pointers below, which curlsym_start
 * fills in the first time mail is to go out over SMTP (as systemd does
 * for its optional libraries). Each pointer has the type of the function
 * <curl/curl.h> declares, so every call is still checked against the
 * real prototype.
 *
 * Only the delivery module uses this, and only from the main thread for
 * start and stop; the pointers are then read-only and may be called from
 * any thread.
 */
#ifndef CURLSYM_H
#define CURLSYM_H

#include <stddef.h>
#include <curl/curl.h>

/* The soname looked for, and the Debian package that provides it. */
#define CURLSYM_LIBRARY	"libcurl.so.4"
#define CURLSYM_PACKAGE	"libcurl4"

/*
 * Every libcurl function lectern calls: X(name) for curl_name. A function
 * missing here and called directly shows up as an undefined reference at
 * link time, since lecternd does not link libcurl.
 */
#define CURLSYM_FUNCTIONS(X)						\
	X(easy_cleanup)							\
	X(easy_escape)							\
	X(easy_getinfo)							\
	X(easy_init)							\
	X(easy_reset)							\
	X(easy_setopt)							\
	X(easy_strerror)						\
	X(free)								\
	X(global_cleanup)						\
	X(global_init)							\
	X(multi_add_handle)						\
	X(multi_assign)							\
	X(multi_cleanup)						\
	X(multi_info_read)						\
	X(multi_init)							\
	X(multi_remove_handle)						\
	X(multi_setopt)							\
	X(multi_socket_action)						\
	X(multi_strerror)						\
	X(slist_append)							\
	X(slist_free_all)						\
	X(version)

/*
 * curlsym_easy_init and so on. NULL until curlsym_start succeeds; they
 * stay valid after curlsym_stop (the library is never unloaded).
 */
#define CURLSYM_DECLARE(n)	extern __typeof__(curl_##n) *curlsym_##n;
CURLSYM_FUNCTIONS(CURLSYM_DECLARE)
#undef CURLSYM_DECLARE

/*
 * Load libcurl if it is not loaded yet, resolve every function above and
 * run curl_global_init (on the calling thread, before any other libcurl
 * call). Idempotent until curlsym_stop. Returns 0, or -1 with a sentence
 * for an administrator in err (nothing is logged here).
 */
int curlsym_start(char *err, size_t errlen);
/*
 * curl_global_cleanup, if curlsym_start succeeded; the library stays
 * mapped (see curlsym.c), and a later curlsym_start initialises it again.
 */
void curlsym_stop(void);
/* Is libcurl initialised (curlsym_start succeeded, no stop since)? */
int curlsym_started(void);

#endif
