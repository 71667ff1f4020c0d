/* bench/trivial-fcgi.c: the smallest FastCGI responder, the ceiling for bench/run. */
/*
 * With a fourth argument, a file, it reads each request's body to the end
 * and answers with the file's bytes instead: the ceiling for an exchange
 * of the same size as one of the service's (a POST and its answer).
 */
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
static char		*response;
static int		response_len;
static int		listen_fd;
static int		read_body;

static void *
trivial_thread(void *arg)
{
	FCGX_Request	r;

	FCGX_InitRequest(&r, listen_fd, 0);
	char		in[4096];

	while (FCGX_Accept_r(&r) >= 0) {
		while (read_body && FCGX_GetStr(in, sizeof in, r.in) > 0)
			;
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
	FILE		*f;
	char		*file = NULL;
	size_t		 file_len = 0;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: trivial-fcgi :port|/socket procs threads "
		    "[body-file]\n");
		return (2);
	}
	procs = atoi(argv[2]);
	threads = atoi(argv[3]);
	if (procs < 1 || threads < 1) {
		fprintf(stderr, "trivial-fcgi: procs and threads must be >= 1\n");
		return (2);
	}
	/* Built once: FCGX_FPrintF knows no %zu, and the ceiling does no work. */
	if (argc == 5) {
		if ((f = fopen(argv[4], "rb")) == NULL) {
			perror(argv[4]);
			return (1);
		}
		file = malloc(1 << 20);
		file_len = fread(file, 1, (1 << 20) - 1, f);
		fclose(f);
		file[file_len] = '\0';
		read_body = 1;
	}
	response = malloc(256 + file_len);
	response_len = snprintf(response, 256 + file_len, "Status: 200 OK\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n%s", file != NULL ? file_len :
	    sizeof body - 1, file != NULL ? file : body);
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
