/* ias-analyzer daemon mode (analyzer/daemon.c). */
#ifndef IAS_ANALYZER_DAEMON_H
#define IAS_ANALYZER_DAEMON_H

/* argv[0] is the subcommand ("daemon" or "--daemon"); options follow.
 * Returns the process exit status. */
int az_daemon_main(int argc, char **argv);

#endif
