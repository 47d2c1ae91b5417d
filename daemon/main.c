/*
 * main.c -- lecternd: options, start-up, signals, shutdown.
 *
 * Modules are started in dependency order (log, config, store, commands,
 * event base, server, delivery, the wall-clock timer and reminders) and
 * stopped in reverse. Signals arrive through evsignal, so no work is done
 * in a signal handler. The only periodic timer is systemd's watchdog: an
 * idle daemon does not wake up.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "lectern.h"
#include "commands.h"
#include "config.h"
#include "delivery.h"
#include "log.h"
#include "offload.h"
#include "mail.h"
#include "notices.h"
#include "remind.h"
#include "wake.h"
#include "server.h"
#include "store.h"

#ifndef LECTERN_SYSCONFDIR
#define LECTERN_SYSCONFDIR "/etc"
#endif
#define MAIN_CONFIG_DEFAULT LECTERN_SYSCONFDIR "/lectern/lectern.conf"

static struct config	*main_cfg;
static struct event_base *main_base;
static const char	*main_cfg_path = MAIN_CONFIG_DEFAULT;
static int		 main_cfg_given;
static int		 main_detach_fd = -1;

static const struct option main_longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "foreground", no_argument, NULL, 'f' },
	{ "check", no_argument, NULL, 'n' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
main_usage(FILE *f)
{
	fprintf(f,
	    "usage: lecternd [-fnVh] [-c file]\n"
	    "  -c, --config FILE  configuration file (default %s)\n"
	    "  -f, --foreground   do not detach (implied under systemd)\n"
	    "  -n, --check        check the configuration and exit\n"
	    "  -V, --version      print the version and exit\n"
	    "  -h, --help         print this help and exit\n",
	    MAIN_CONFIG_DEFAULT);
}

static void
main_print_problem_cb(const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "%s\n", msg);
}

static void
main_log_problem_cb(const char *msg, void *arg)
{
	(void)arg;
	log_err("%s", msg);
}

/*
 * Load the configuration file into cfg. Without -c a missing default file
 * is not an error: lecternd then runs on its built-in defaults.
 */
static int
main_load(struct config *cfg, void (*errfn)(const char *, void *))
{
	const char *path = main_cfg_path;

	if (!main_cfg_given && access(path, F_OK) == -1 && errno == ENOENT) {
		log_notice("no configuration file at %s; using the built-in "
		    "defaults", path);
		path = NULL;
	}
	return config_load(path, cfg, errfn, NULL);
}

/*
 * Detach from the terminal. The fork happens before the database is
 * opened (SQLite connections must not cross a fork: the child would not
 * hold the parent's POSIX locks on the WAL index) and before the event base
 * exists (no event_reinit needed). The parent waits until the child is
 * ready or has failed, so that "lecternd" still reports start-up errors on
 * the terminal and exits with the child's status.
 */
static void
main_detach_begin(void)
{
	int p[2], status;
	pid_t pid;
	ssize_t n;
	char c;

	if (pipe2(p, O_CLOEXEC) == -1) {
		log_err("pipe: %s", strerror(errno));
		exit(1);
	}
	if ((pid = fork()) == -1) {
		log_err("fork: %s", strerror(errno));
		exit(1);
	}
	if (pid > 0) {
		close(p[1]);
		do
			n = read(p[0], &c, 1);
		while (n == -1 && errno == EINTR);
		if (n == 1)
			_exit(0);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
	}
	close(p[0]);
	main_detach_fd = p[1];
	if (setsid() == -1)
		log_warn("setsid: %s", strerror(errno));
}

static void
main_detach_end(void)
{
	int fd;

	if (chdir("/") == -1)
		log_warn("chdir /: %s", strerror(errno));
	log_use_syslog();
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	if (write(main_detach_fd, "R", 1) != 1)
		log_warn("cannot tell the parent that we are ready");
	close(main_detach_fd);
	main_detach_fd = -1;
}

/* A restart-only key: keep the running value, warn if the file differs. */
static void
main_keep(char **next, char **cur, const char *key)
{
	char *t;

	if (strcmp(*next, *cur) == 0)
		return;
	log_warn("reload: %s changed to %s, which needs a restart; keeping %s",
	    key, *next, *cur);
	t = *next;
	*next = *cur;
	*cur = t;
}

static void
main_reload(void)
{
	struct config *next, *old = main_cfg;
	char err[512];
	int n;

	sd_notify(0, "RELOADING=1\nSTATUS=Reloading the configuration");
	if ((next = calloc(1, sizeof *next)) == NULL)
		log_fatal("out of memory");
	if ((n = main_load(next, main_log_problem_cb)) > 0) {
		log_err("reload: %d problem%s in the configuration; keeping the "
		    "running one", n, n == 1 ? "" : "s");
		config_cleanup(next);
		free(next);
		goto out;
	}
	/* New templates must load before anything else is switched. */
	if (mail_start(next->templates, next->lang, err, sizeof err) == -1) {
		log_err("reload: templates: %s; keeping the running "
		    "configuration", err);
		config_cleanup(next);
		free(next);
		goto out;
	}
	main_keep(&next->socket, &old->socket, "socket");
	main_keep(&next->database, &old->database, "database");
	main_keep(&next->state_dir, &old->state_dir, "state_dir");

	/* A report on the reader reads the configuration: let it finish. */
	offload_wait();
	main_cfg = next;
	log_set_level((enum log_level)next->log_level);
	server_set_config(next);
	commands_set_config(next);
	delivery_set_config(next);
	remind_set_config(next);
	notices_set_config(next);
	config_cleanup(old);
	free(old);
	log_notice("configuration reloaded from %s", next->path != NULL ?
	    next->path : "the built-in defaults");
	if (next->coordinator_gid == (gid_t)-1)
		log_notice("coordinator group %s does not exist",
		    next->coordinator_group);
out:
	sd_notifyf(0, "READY=1\nSTATUS=Listening on %s", main_cfg->socket);
}

static void
main_signal_cb(evutil_socket_t sig, short events, void *arg)
{
	(void)events;
	(void)arg;
	switch (sig) {
	case SIGHUP:
		log_info("SIGHUP: reloading the configuration");
		main_reload();
		break;
	default:
		log_notice("%s: stopping", sig == SIGTERM ? "SIGTERM" :
		    "SIGINT");
		event_base_loopbreak(main_base);
		break;
	}
}

static void
main_watchdog_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	sd_notify(0, "WATCHDOG=1");
}

/* lecternd: parse options, start the modules, run the loop, stop. */
int
main(int argc, char **argv)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct event *sigev[3] = { NULL, NULL, NULL }, *watchdog = NULL;
	struct timeval tv;
	uint64_t usec;
	char err[512];
	int ch, foreground = 0, check = 0, n, listen_fd = -1, systemd, started;
	size_t i;
	mode_t mask;

	log_init();
	/* Delivery runs a thread: libevent must know before any base exists. */
	if (delivery_init_threads() == -1)
		log_fatal("libevent has no pthreads support");
	while ((ch = getopt_long(argc, argv, "c:fnVh", main_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			main_cfg_path = optarg;
			main_cfg_given = 1;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'V':
			printf("lecternd %s (protocol %d)\n", LECTERN_VERSION,
			    LECTERN_PROTOCOL);
			return 0;
		case 'h':
			main_usage(stdout);
			return 0;
		default:
			main_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "lecternd: unexpected argument \"%s\"\n",
		    argv[optind]);
		main_usage(stderr);
		return 2;
	}
	systemd = getenv("NOTIFY_SOCKET") != NULL ||
	    getenv("INVOCATION_ID") != NULL;
	if (systemd)
		foreground = 1;

	if ((main_cfg = calloc(1, sizeof *main_cfg)) == NULL)
		log_fatal("out of memory");
	if (check) {
		n = main_load(main_cfg, main_print_problem_cb);
		if (n == 0 && mail_start(main_cfg->templates, main_cfg->lang,
		    err, sizeof err) == -1) {
			fprintf(stderr, "%s: templates: %s\n",
			    main_cfg->path != NULL ? main_cfg->path :
			    "lecternd", err);
			n = 1;
		}
		mail_stop();
		if (n == 0)
			printf("lecternd: configuration file %s OK\n",
			    main_cfg->path != NULL ? main_cfg->path :
			    "(none: built-in defaults)");
		config_cleanup(main_cfg);
		free(main_cfg);
		return n == 0 ? 0 : 1;
	}
	if ((n = main_load(main_cfg, main_log_problem_cb)) > 0) {
		log_err("%d problem%s in the configuration; not starting", n,
		    n == 1 ? "" : "s");
		return 1;
	}
	log_set_level((enum log_level)main_cfg->log_level);
	if (main_cfg->coordinator_gid == (gid_t)-1)
		log_notice("coordinator group %s does not exist: only root and "
		    "uid %ld may change state", main_cfg->coordinator_group,
		    (long)geteuid());

	/*
	 * The database and the mail hold personal data: never world access.
	 * Only tighten the inherited umask (systemd's UMask= may be stricter).
	 */
	mask = umask(0);
	umask(mask | 0027);
	signal(SIGPIPE, SIG_IGN);
	if (!foreground)
		main_detach_begin();

	if (mkdir(main_cfg->state_dir, 0750) == -1 && errno != EEXIST) {
		log_err("cannot create state_dir %s: %s", main_cfg->state_dir,
		    strerror(errno));
		return 1;
	}
	if (mail_start(main_cfg->templates, main_cfg->lang, err,
	    sizeof err) == -1) {
		log_err("templates: %s", err);
		return 1;
	}
	if (store_open(main_cfg->database, err, sizeof err) == -1) {
		log_err("database %s: %s", main_cfg->database, err);
		mail_stop();
		return 1;
	}
	if (commands_start(main_cfg) == -1) {
		log_err("cannot start the command handlers");
		store_close();
		return 1;
	}
	if ((main_base = event_base_new()) == NULL)
		log_fatal("cannot create the event base");
	/* Without the reader, reports run on the loop: slower, not wrong. */
	if (offload_start(main_base, main_cfg->database, err,
	    sizeof err) == -1)
		log_warn("reports will run on the main loop: %s", err);

	n = sd_listen_fds(1);
	if (n == 1)
		listen_fd = SD_LISTEN_FDS_START;
	else if (n > 1) {
		log_err("systemd passed %d sockets; lecternd takes one", n);
		return 1;
	} else if (n < 0)
		log_warn("sd_listen_fds: %s", strerror(-n));
	if (server_start(main_base, main_cfg, listen_fd, err,
	    sizeof err) == -1) {
		log_err("%s", err);
		sd_notifyf(0, "STATUS=Failed to start: %s", err);
		offload_stop();
		commands_stop();
		store_close();
		event_base_free(main_base);
		return 1;
	}

	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		sigev[i] = evsignal_new(main_base, sigs[i], main_signal_cb,
		    NULL);
		if (sigev[i] == NULL || evsignal_add(sigev[i], NULL) == -1)
			log_fatal("cannot watch signal %d", sigs[i]);
	}

	remind_set_config(main_cfg);
	notices_set_config(main_cfg);
	if ((started = delivery_start(main_base, main_cfg, err,
	    sizeof err) == 0) && (wake_start(main_base, err, sizeof err) == -1 ||
	    remind_start(err, sizeof err) == -1 ||
	    notices_start(err, sizeof err) == -1)) {
		remind_stop();
		wake_stop();
		delivery_stop();
		started = 0;
	}
	if (!started) {
		log_err("cannot start delivery and reminders: %s", err);
		sd_notifyf(0, "STATUS=Failed to start: %s", err);
		server_stop();
		offload_stop();
		commands_stop();
		store_close();
		for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
			event_free(sigev[i]);
		event_base_free(main_base);
		return 1;
	}

	if (!foreground)
		main_detach_end();
	if (sd_watchdog_enabled(1, &usec) > 0) {
		tv.tv_sec = (time_t)(usec / 2 / 1000000);
		tv.tv_usec = (suseconds_t)(usec / 2 % 1000000);
		watchdog = event_new(main_base, -1, EV_PERSIST,
		    main_watchdog_cb, NULL);
		if (watchdog == NULL || event_add(watchdog, &tv) == -1)
			log_fatal("cannot arm the watchdog timer");
	}
	sd_notifyf(0, "READY=1\nSTATUS=Listening on %s", main_cfg->socket);
	log_notice("lecternd %s started (protocol %d), socket %s, database %s",
	    LECTERN_VERSION, LECTERN_PROTOCOL, main_cfg->socket,
	    main_cfg->database);

	event_base_dispatch(main_base);

	sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
	notices_stop();
	remind_stop();
	wake_stop();
	delivery_stop();
	server_stop();
	offload_stop();
	commands_stop();
	store_close();
	mail_stop();
	if (watchdog != NULL)
		event_free(watchdog);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		event_free(sigev[i]);
	event_base_free(main_base);
	log_notice("stopped");
	config_cleanup(main_cfg);
	free(main_cfg);
	return 0;
}
