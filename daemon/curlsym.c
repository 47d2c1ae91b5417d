/*
 * curlsym.c -- libcurl, loaded on first use. See curlsym.h for why.
 *
 * The library is opened RTLD_NOW (a missing symbol in its dependencies
 * shows at once, not in the middle of a transfer) and RTLD_LOCAL (its
 * symbols do not satisfy anyone else's references).
 *
 * It is never dlclose'd, not even at stop: libcurl's TLS backends
 * (OpenSSL, and gnutls pulled in by its dependencies) register atexit
 * handlers and thread-local destructors and keep global state that cannot
 * be unloaded safely; unmapping them under a running process crashes
 * later. A handle that loaded but lacked a symbol is kept as well, for the
 * same reason: its constructors have run.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "curlsym.h"

#define CURLSYM_DEFINE(n)	__typeof__(curl_##n) *curlsym_##n;
CURLSYM_FUNCTIONS(CURLSYM_DEFINE)
#undef CURLSYM_DEFINE

static void	*curlsym_handle;	/* never closed */
static int	 curlsym_resolved;	/* every pointer above is set */
static int	 curlsym_inited;	/* curl_global_init succeeded */

/* Forget every pointer (after a symbol was missing). */
static void
curlsym_clear(void)
{
#define CURLSYM_CLEAR(n)	curlsym_##n = NULL;
	CURLSYM_FUNCTIONS(CURLSYM_CLEAR)
#undef CURLSYM_CLEAR
}

/* The address of name in the library, or NULL with a sentence in err. */
static void *
curlsym_lookup(const char *name, char *err, size_t errlen)
{
	const char	*e;
	void		*p;

	dlerror();
	p = dlsym(curlsym_handle, name);
	if (p == NULL) {
		/* dlerror names the file and the symbol. */
		if ((e = dlerror()) != NULL)
			snprintf(err, errlen, "cannot load %s: %s; install the "
			    "%s package", CURLSYM_LIBRARY, e, CURLSYM_PACKAGE);
		else
			snprintf(err, errlen, "cannot load %s: %s is NULL; "
			    "install the %s package", CURLSYM_LIBRARY, name,
			    CURLSYM_PACKAGE);
	}
	return p;
}

/* dlopen and resolve every function (once they all resolved, a no-op). */
static int
curlsym_resolve(char *err, size_t errlen)
{
	const char	*e;
	void		*p;

	if (curlsym_resolved)
		return 0;
	if (curlsym_handle == NULL) {
		curlsym_handle = dlopen(CURLSYM_LIBRARY, RTLD_NOW | RTLD_LOCAL);
		if (curlsym_handle == NULL) {
			e = dlerror();
			snprintf(err, errlen, "cannot load %s: %s; install the "
			    "%s package", CURLSYM_LIBRARY, e != NULL ? e :
			    "unknown error", CURLSYM_PACKAGE);
			return -1;
		}
	}
	/*
	 * ISO C has no conversion from void * to a function pointer; POSIX
	 * guarantees that dlsym's result converts (and GCC accepts it).
	 */
#define CURLSYM_RESOLVE(n)						\
	if ((p = curlsym_lookup("curl_" #n, err, errlen)) == NULL)	\
		goto fail;						\
	curlsym_##n = (__typeof__(curlsym_##n))p;
	CURLSYM_FUNCTIONS(CURLSYM_RESOLVE)
#undef CURLSYM_RESOLVE
	curlsym_resolved = 1;
	return 0;

fail:
	curlsym_clear();
	return -1;
}

/* Load libcurl if need be, resolve it and initialise it. */
int
curlsym_start(char *err, size_t errlen)
{
	CURLcode	 rc;

	if (curlsym_inited)
		return 0;
	if (curlsym_resolve(err, errlen) == -1)
		return -1;
	if ((rc = curlsym_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
		snprintf(err, errlen, "cannot initialise libcurl: %s",
		    curlsym_easy_strerror(rc));
		return -1;
	}
	curlsym_inited = 1;
	return 0;
}

/* curl_global_cleanup; the library stays loaded. */
void
curlsym_stop(void)
{
	if (!curlsym_inited)
		return;
	curlsym_global_cleanup();
	curlsym_inited = 0;
}

/* Is libcurl initialised? */
int
curlsym_started(void)
{
	return curlsym_inited;
}
