/* worker.h: a worker process: accept threads serving FastCGI requests. */
#ifndef WORKER_H
#define WORKER_H

#include <signal.h>

#include <sys/types.h>

/*
 * Run a worker on listen_fd until SIGTERM, then drain; never returns.
 * One byte is written to ready_fd (then closed) once all threads accept.
 * master is the pid of the process that forked it: the worker stops when
 * that one is gone.
 */
void	worker_main(int listen_fd, int ready_fd, pid_t master)
	    __attribute__((noreturn));

/* Number of requests being served by this process right now. */
int	worker_in_flight(void);

#endif
