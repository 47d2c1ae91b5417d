/*
 * conn.c -- the client's side of the socket.
 *
 * Blocking I/O is right here: the CLI does one thing and waits for it.
 * Reads go into one growing buffer until '\n', bounded by conn_line_max,
 * so that a list of ten thousand people arrives whole while a daemon that
 * never ends its line cannot eat all memory.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lectern.h"
#include "conn.h"

struct conn {
	int	 fd;
	char	*buf;
	size_t	 len;		/* octets in buf */
	size_t	 off;		/* start of what has not been returned */
	size_t	 cap;
};

size_t conn_line_max = CONN_LINE_MAX;

/* The sentence for a failed connect, with a hint for the common cases. */
static void
conn_connect_error(const char *path, int errnum, char *err, size_t errlen)
{
	struct stat	 st;
	struct group	*gr;

	switch (errnum) {
	case ENOENT:
	case ECONNREFUSED:
		snprintf(err, errlen, "is lecternd running? cannot connect to "
		    "%s: %s", path, strerror(errnum));
		break;
	case EACCES:
	case EPERM:
		if (stat(path, &st) == 0 && (gr = getgrgid(st.st_gid)) != NULL)
			snprintf(err, errlen, "cannot connect to %s: %s (the "
			    "socket belongs to group %s; ask an administrator "
			    "to add you to it, then log in again)", path,
			    strerror(errnum), gr->gr_name);
		else
			snprintf(err, errlen, "cannot connect to %s: %s (only "
			    "members of the socket's group, usually lectern, "
			    "may connect; ask an administrator to add you to "
			    "it, then log in again)", path, strerror(errnum));
		break;
	default:
		snprintf(err, errlen, "cannot connect to %s: %s", path,
		    strerror(errnum));
		break;
	}
}

/* Connect to lecternd's socket; the caller frees with conn_free. */
struct conn *
conn_open(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct pollfd		 pfd;
	struct conn		*c = NULL;
	socklen_t		 sl;
	size_t			 len;
	int			 fd = -1, e;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	len = strlen(path);
	if (len == 0 || len >= sizeof sun.sun_path) {
		snprintf(err, errlen, "cannot connect to %.200s: the socket "
		    "path must be 1 to %zu octets long", path,
		    sizeof sun.sun_path - 1);
		goto fail;
	}
	memcpy(sun.sun_path, path, len + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto fail;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		if (errno != EINTR) {
			conn_connect_error(path, errno, err, errlen);
			goto fail;
		}
		/* Interrupted: the connection goes on; wait for its outcome. */
		pfd.fd = fd;
		pfd.events = POLLOUT;
		while (poll(&pfd, 1, -1) == -1) {
			if (errno != EINTR) {
				conn_connect_error(path, errno, err, errlen);
				goto fail;
			}
		}
		sl = sizeof e;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) == -1)
			e = errno;
		if (e != 0) {
			conn_connect_error(path, e, err, errlen);
			goto fail;
		}
	}
	if ((c = calloc(1, sizeof *c)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	c->fd = fd;
	return c;
fail:
	if (fd != -1)
		close(fd);
	return NULL;
}

/* Close and free a connection; NULL is a no-op. */
void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->fd != -1)
		close(c->fd);
	free(c->buf);
	free(c);
}

/*
 * Read one line; *line points into the buffer (valid until the next call)
 * and has its '\n' replaced by NUL; *len excludes it.
 */
static int
conn_readline(struct conn *c, char **line, size_t *len, char *err,
    size_t errlen)
{
	char	*nl, *grown;
	size_t	 cap;
	ssize_t	 n;

	for (;;) {
		nl = c->len > c->off ?
		    memchr(c->buf + c->off, '\n', c->len - c->off) : NULL;
		if (nl != NULL) {
			*nl = '\0';
			*line = c->buf + c->off;
			*len = (size_t)(nl - *line);
			c->off = (size_t)(nl - c->buf) + 1;
			return 0;
		}
		if (c->off > 0) {
			memmove(c->buf, c->buf + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
		}
		if (c->len == c->cap) {
			if (c->cap >= conn_line_max) {
				snprintf(err, errlen, "lecternd's reply is "
				    "longer than %zu octets", conn_line_max);
				return -1;
			}
			cap = c->cap == 0 ? 65536 : c->cap * 2;
			if (cap > conn_line_max)
				cap = conn_line_max;
			if ((grown = realloc(c->buf, cap)) == NULL) {
				snprintf(err, errlen, "out of memory reading "
				    "lecternd's reply");
				return -1;
			}
			c->buf = grown;
			c->cap = cap;
		}
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "reading from lecternd: %s",
			    strerror(errno));
			return -1;
		}
		if (n == 0) {
			snprintf(err, errlen, "lecternd closed the connection");
			return -1;
		}
		c->len += (size_t)n;
	}
}

/* Write all of buf, restarting after signals and short writes. */
static int
conn_write(struct conn *c, const char *buf, size_t len, char *err,
    size_t errlen)
{
	ssize_t	n;

	while (len > 0) {
		/* MSG_NOSIGNAL: a daemon that went away must not kill us. */
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE || errno == ECONNRESET)
				snprintf(err, errlen, "lecternd closed the "
				    "connection");
			else
				snprintf(err, errlen, "writing to lecternd: %s",
				    strerror(errno));
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read one line and decode it as a JSON object. */
static json_t *
conn_read_json(struct conn *c, const char *what, char *err, size_t errlen)
{
	json_error_t	 jerr;
	json_t		*v;
	char		*line;
	size_t		 len;

	if (conn_readline(c, &line, &len, err, errlen) == -1)
		return NULL;
	v = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (v == NULL) {
		snprintf(err, errlen, "lecternd sent %s that is not JSON: %s",
		    what, jerr.text);
		return NULL;
	}
	if (!json_is_object(v)) {
		snprintf(err, errlen, "lecternd sent %s that is not a JSON "
		    "object", what);
		json_decref(v);
		return NULL;
	}
	return v;
}

/* Check a greeting's protocol version (pure). */
int
conn_check_greeting(const json_t *g, char *err, size_t errlen)
{
	const json_t	*proto, *e, *m;

	if (!json_is_object(g)) {
		snprintf(err, errlen, "lecternd sent no greeting");
		return -1;
	}
	/* A daemon at its connection limit may answer with an error. */
	e = json_object_get(g, "error");
	if (json_is_object(e)) {
		m = json_object_get(e, "message");
		snprintf(err, errlen, "lecternd refused the connection: %s",
		    json_is_string(m) ? json_string_value(m) : "no reason");
		return -1;
	}
	proto = json_object_get(g, "protocol");
	if (!json_is_integer(proto)) {
		snprintf(err, errlen, "the greeting has no protocol version; "
		    "is this lecternd's socket?");
		return -1;
	}
	if (json_integer_value(proto) != LECTERN_PROTOCOL) {
		snprintf(err, errlen, "lecternd speaks protocol %"
		    JSON_INTEGER_FORMAT " but this lectern speaks protocol %d; "
		    "install matching versions", json_integer_value(proto),
		    LECTERN_PROTOCOL);
		return -1;
	}
	return 0;
}

/* Read the greeting and check it. */
int
conn_greet(struct conn *c, char *err, size_t errlen)
{
	json_t	*g;
	int	 rc;

	if ((g = conn_read_json(c, "a greeting", err, errlen)) == NULL)
		return -1;
	rc = conn_check_greeting(g, err, errlen);
	json_decref(g);
	return rc;
}

/* Check the shape of a reply to request id (pure). */
int
conn_check_reply(const json_t *r, long long id, char *err, size_t errlen)
{
	const json_t	*rid, *ok, *result, *e, *f;

	if (!json_is_object(r)) {
		snprintf(err, errlen, "lecternd sent a reply that is not an "
		    "object");
		return -1;
	}
	rid = json_object_get(r, "id");
	ok = json_object_get(r, "ok");
	if (!json_is_integer(rid) || json_integer_value(rid) != id) {
		/* An unframeable request is answered with "id":null. */
		e = json_object_get(r, "error");
		if (json_is_null(rid) && json_is_object(e) &&
		    json_is_string(json_object_get(e, "message")))
			return 0;
		snprintf(err, errlen, "lecternd answered another request "
		    "(id mismatch)");
		return -1;
	}
	if (!json_is_boolean(ok)) {
		snprintf(err, errlen, "lecternd sent a reply without \"ok\"");
		return -1;
	}
	if (json_is_true(ok)) {
		result = json_object_get(r, "result");
		if (!json_is_object(result) && !json_is_array(result)) {
			snprintf(err, errlen, "lecternd sent a reply without "
			    "a result");
			return -1;
		}
		return 0;
	}
	e = json_object_get(r, "error");
	if (!json_is_object(e) ||
	    !json_is_string(json_object_get(e, "code")) ||
	    !json_is_string(json_object_get(e, "message"))) {
		snprintf(err, errlen, "lecternd sent an error without a code "
		    "and a message");
		return -1;
	}
	f = json_object_get(e, "field");
	if (f != NULL && !json_is_string(f) && !json_is_null(f)) {
		snprintf(err, errlen, "lecternd sent an error whose field is "
		    "not a string");
		return -1;
	}
	return 0;
}

/* Send one request and return its checked reply (caller decrefs). */
json_t *
conn_request(struct conn *c, long long id, const char *cmd, json_t *args,
    char *err, size_t errlen)
{
	json_t	*req = NULL, *reply = NULL;
	char	*text = NULL, *line = NULL;
	size_t	 len;

	req = json_pack("{s:I,s:s}", "id", (json_int_t)id, "cmd", cmd);
	if (req == NULL || (args != NULL &&
	    json_object_set(req, "args", args) == -1)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((text = json_dumps(req, JSON_COMPACT)) == NULL) {
		snprintf(err, errlen, "cannot encode the request");
		goto fail;
	}
	len = strlen(text);
	if ((line = malloc(len + 2)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	memcpy(line, text, len);
	line[len] = '\n';
	if (conn_write(c, line, len + 1, err, errlen) == -1)
		goto fail;
	if ((reply = conn_read_json(c, "a reply", err, errlen)) == NULL)
		goto fail;
	if (conn_check_reply(reply, id, err, errlen) == -1) {
		json_decref(reply);
		reply = NULL;
	}
fail:
	free(line);
	free(text);
	json_decref(req);
	return reply;
}
