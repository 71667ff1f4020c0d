/* bench/trivial-fcgi.c: the smallest FastCGI responder, the ceiling for bench/run. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fcgiapp.h>

static const char	body[] = "{\"status\":\"healthy\",\"service\":\"trivial\"}";
static char		response[256];
static int		response_len;
static int		listen_fd;

static void *
trivial_thread(void *arg)
{
	FCGX_Request	r;

	FCGX_InitRequest(&r, listen_fd, 0);
	while (FCGX_Accept_r(&r) >= 0) {
		FCGX_PutStr(response, response_len, r.out);
		FCGX_Finish_r(&r);
	}
	return (NULL);
}

int
main(int argc, char **argv)
{
	pthread_t	*t;
	int		 procs, threads, i;

	if (argc != 4) {
		fprintf(stderr, "usage: trivial-fcgi :port|/socket procs threads\n");
		return (2);
	}
	procs = atoi(argv[2]);
	threads = atoi(argv[3]);
	if (procs < 1 || threads < 1) {
		fprintf(stderr, "trivial-fcgi: procs and threads must be >= 1\n");
		return (2);
	}
	/* Built once: FCGX_FPrintF knows no %zu, and the ceiling does no work. */
	response_len = snprintf(response, sizeof response, "Status: 200 OK\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n%s", sizeof body - 1, body);
	FCGX_Init();
	/* FCGX_Init catches SIGTERM (and keeps accepting): let it end us. */
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	if ((listen_fd = FCGX_OpenSocket(argv[1], 1024)) < 0) {
		perror("FCGX_OpenSocket");
		return (1);
	}
	for (i = 1; i < procs; i++) {
		if (fork() == 0)
			break;
	}
	t = calloc((size_t)threads, sizeof *t);
	for (i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, trivial_thread, NULL);
	for (i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return (0);
}
