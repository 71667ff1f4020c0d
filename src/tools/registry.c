/* tools/registry.c: every tool of the service, in one table. */
#include "autoconf.h"

#include "tool.h"
#include "tools/tools.h"
#include "util.h"

const struct tool *const tool_registry[] = {
	&tools_search_anime,
	&tools_get_trending_anime,
	&tools_get_seasonal_anime,
	&tools_get_anime,
	&tools_get_character_info,
	&tools_get_airing_schedule,
	&tools_list_genres_and_tags,
	&tools_get_anime_recommendations,
	&tools_get_user_list,
	&tools_update_list_entry,
	&tools_delete_list_entry,
	&tools_get_watch_order,
	&tools_get_staff_info,
	&tools_get_studio_info,
	&tools_pick_from_my_list,
	&tools_get_my_airing,
	&tools_get_user_profile,
	&tools_toggle_favourite,
};
const size_t tool_registry_count = nitems(tool_registry);
