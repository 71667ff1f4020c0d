/* handlers/health_db.c: GET /health/db, PostgreSQL's health on its own. */
#include "autoconf.h"

#include <json-c/json.h>

#include "db.h"
#include "handlers.h"
#include "http.h"

/* SELECT 1 with its latency and the schema version; 503 when down. */
void
handle_health_db(struct http_req *req, struct http_resp *resp, const void *arg)
{
	struct json_object	*o = json_object_new_object();
	bool			 ok;

	if (!db_enabled()) {
		json_object_object_add(o, "status",
		    json_object_new_string("disabled"));
		http_resp_json(resp, 200, o);
		return;
	}
	ok = db_health(o);
	json_object_object_add(o, "status",
	    json_object_new_string(ok ? "up" : "down"));
	if (!ok) {
		req->log_error = "database down";
		http_resp_header(resp, "Retry-After", "%d",
		    HTTP_RETRY_AFTER_DOWN);
	}
	http_resp_json(resp, ok ? 200 : 503, o);
}
