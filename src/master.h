/* master.h: the supervising process: listen socket, workers, signals, reload. */
#ifndef MASTER_H
#define MASTER_H

/* Serve with the loaded cfg until SIGTERM; returns the exit status. */
int	master_run(const char *config_path);

#endif
