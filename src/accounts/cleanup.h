/* accounts/cleanup.h: the periodic deletion of what expired in the account database (tokens, codes, login states, unused OAuth clients). */
#ifndef CLEANUP_H
#define CLEANUP_H

#include <stdbool.h>

/*
 * Once per worker after fork: with accounts enabled, start the thread that
 * runs cleanup_run every CLEANUP_INTERVAL_SECONDS (the first run one
 * interval after the start). cleanup_shutdown stops it.
 */
void	 cleanup_init(void);
void	 cleanup_shutdown(void);

/*
 * Delete, in one transaction: tokens (sessions, access and refresh tokens)
 * past their expiry; authorization codes a day past theirs (a replay until
 * then still revokes what the code gave); token families left without a
 * token or code; login states past their expiry; OAuth clients that never
 * received a code, OAUTH_CLIENT_UNUSED_DAYS after registering. Only one
 * worker of the whole installation runs it at a time (an advisory lock);
 * the others skip. False with *cause (caller frees) when PostgreSQL fails.
 */
bool	 cleanup_run(char **cause) __attribute__((warn_unused_result));

#endif
