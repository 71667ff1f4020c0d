/* worker.h: a worker process: accept threads serving FastCGI requests. */
#ifndef WORKER_H
#define WORKER_H

#include <signal.h>

/*
 * Run a worker on listen_fd until SIGTERM, then drain; never returns.
 * One byte is written to ready_fd (then closed) once all threads accept.
 */
void	worker_main(int, int) __attribute__((noreturn));

/* Number of requests being served by this process right now. */
int	worker_in_flight(void);

#endif
