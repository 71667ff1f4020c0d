/* anilist/queries.c: the GraphQL documents sent to AniList, one operation each. */
#include "autoconf.h"

#include <string.h>

#include "queries.h"

/*
 * The compact media selection shared by every list of media. Nested
 * connections stay small: AniList caps query complexity at 500, and a
 * batch holds 400 (batch.h): a manga's chapters and volumes took the
 * place of idMal and the cover's color, which nothing read.
 */
#define QUERIES_MEDIA_COMPACT						\
	"id type title{romaji english native userPreferred} "		\
	"synonyms format status episodes duration chapters volumes "	\
	"season seasonYear "						\
	"startDate{year month day} genres averageScore meanScore "	\
	"popularity favourites isAdult coverImage{medium large} "	\
	"siteUrl nextAiringEpisode{airingAt episode} "			\
	"studios(isMain:true){nodes{id name isAnimationStudio}} "	\
	"tags{name rank} description(asHtml:false) source "		\
	"countryOfOrigin"

#define QUERIES_PAGE_INFO						\
	"pageInfo{currentPage perPage hasNextPage}"

#define QUERIES_CHARACTER						\
	"id name{full native alternative} image{large medium} "		\
	"description(asHtml:false) gender age "				\
	"dateOfBirth{year month day} favourites siteUrl "		\
	"media(sort:[POPULARITY_DESC],perPage:10){"			\
	"edges{characterRole node{id title{romaji english} format type}}}"

const char queries_search_media[] =
	"query SearchMedia($page:Int,$perPage:Int,$search:String,"
	"$type:MediaType,$genre_in:[String],$tag_in:[String],"
	"$season:MediaSeason,$seasonYear:Int,$status:MediaStatus,"
	"$format:MediaFormat,$averageScore_greater:Int,$sort:[MediaSort],"
	"$isAdult:Boolean){"
	"Page(page:$page,perPage:$perPage){"
	QUERIES_PAGE_INFO " "
	"media(search:$search,type:$type,genre_in:$genre_in,tag_in:$tag_in,"
	"season:$season,seasonYear:$seasonYear,status:$status,"
	"format:$format,averageScore_greater:$averageScore_greater,"
	"sort:$sort,isAdult:$isAdult){"
	QUERIES_MEDIA_COMPACT
	"}}}";

const char queries_trending_media[] =
	"query TrendingMedia($page:Int,$perPage:Int,$type:MediaType,"
	"$isAdult:Boolean){"
	"Page(page:$page,perPage:$perPage){"
	QUERIES_PAGE_INFO " "
	"media(sort:[TRENDING_DESC,POPULARITY_DESC],type:$type,"
	"isAdult:$isAdult){"
	QUERIES_MEDIA_COMPACT " trending"
	"}}}";

const char queries_seasonal_media[] =
	"query SeasonalMedia($page:Int,$perPage:Int,$season:MediaSeason,"
	"$seasonYear:Int,$isAdult:Boolean){"
	"Page(page:$page,perPage:$perPage){"
	QUERIES_PAGE_INFO " "
	"media(type:ANIME,season:$season,seasonYear:$seasonYear,"
	"isAdult:$isAdult,sort:[POPULARITY_DESC]){"
	QUERIES_MEDIA_COMPACT
	"}}}";

/*
 * A title the community recommends, as a title's details list it. Whoever
 * needs more of it (similar recommendations score it like any candidate)
 * asks MediaByIds: in full, each recommendation would cost 34 more of the
 * details' complexity, and only two details would fit in one batch.
 */
#define QUERIES_MEDIA_RECOMMENDED					\
	"id title{romaji english} format seasonYear averageScore "	\
	"genres isAdult siteUrl"

/* One title in full; its nested lists stay short (complexity 109). */
const char queries_media_details[] =
	"query MediaDetails($id:Int,$type:MediaType){"
	"Media(id:$id,type:$type){"
	QUERIES_MEDIA_COMPACT " "
	"endDate{year month day} trailer{id site} bannerImage "
	"relations{edges{relationType "
	"node{id title{romaji english} format type status}}} "
	"recommendations(sort:[RATING_DESC],perPage:10){"
	"nodes{rating mediaRecommendation{" QUERIES_MEDIA_RECOMMENDED "}}} "
	"characters(sort:[ROLE,RELEVANCE],perPage:10){"
	"edges{role node{id name{full native} image{medium}}}} "
	"stats{statusDistribution{status amount} "
	"scoreDistribution{score amount}} "
	"externalLinks{site url type language notes isDisabled} "
	"reviews(sort:[RATING_DESC],perPage:3){"
	"nodes{score summary rating ratingAmount siteUrl}}"
	"}}";

/* Titles by id, in the compact selection (complexity 46). */
const char queries_media_by_ids[] =
	"query MediaByIds($ids:[Int],$perPage:Int){"
	"Page(page:1,perPage:$perPage){"
	"media(id_in:$ids){" QUERIES_MEDIA_COMPACT "}}}";

const char queries_character_by_id[] =
	"query CharacterById($id:Int){"
	"Character(id:$id){" QUERIES_CHARACTER "}}";

const char queries_character_search[] =
	"query CharacterSearch($search:String,$page:Int,$perPage:Int){"
	"Page(page:$page,perPage:$perPage){"
	QUERIES_PAGE_INFO " "
	"characters(search:$search,sort:[SEARCH_MATCH]){"
	QUERIES_CHARACTER
	"}}}";

const char queries_airing_schedule[] =
	"query AiringSchedule($page:Int,$perPage:Int,$airingAt_greater:Int,"
	"$airingAt_lesser:Int){"
	"Page(page:$page,perPage:$perPage){"
	QUERIES_PAGE_INFO " "
	"airingSchedules(airingAt_greater:$airingAt_greater,"
	"airingAt_lesser:$airingAt_lesser,sort:[TIME]){"
	"id airingAt episode timeUntilAiring "
	"media{" QUERIES_MEDIA_COMPACT "}"
	"}}}";

const char queries_genres_and_tags[] =
	"query GenresAndTags{"
	"GenreCollection "
	"MediaTagCollection{name description category isAdult}"
	"}";

const char queries_viewer[] =
	"query Viewer{"
	"Viewer{id name avatar{medium} siteUrl "
	"options{displayAdultContent} mediaListOptions{scoreFormat}}"
	"}";

const char queries_user_list[] =
	"query UserList($userId:Int,$userName:String,$type:MediaType,"
	"$status:MediaListStatus,$sort:[MediaListSort],$chunk:Int,"
	"$perChunk:Int){"
	"MediaListCollection(userId:$userId,userName:$userName,type:$type,"
	"status:$status,sort:$sort,chunk:$chunk,perChunk:$perChunk){"
	"hasNextChunk "
	"lists{name status entries{id mediaId status score(format:POINT_100) "
	"progress progressVolumes repeat updatedAt "
	"media{id type title{romaji english userPreferred} episodes duration "
	"chapters volumes format status "
	"genres averageScore coverImage{medium} tags{name rank} "
	"studios(isMain:true){nodes{name isAnimationStudio}} seasonYear}}} "
	"user{id name}"
	"}}";

/* One list entry as the user tools show it. */
#define QUERIES_LIST_ENTRY						\
	"id mediaId status score(format:POINT_100) progress updatedAt "	\
	"progressVolumes "						\
	"repeat notes private startedAt{year month day} "		\
	"completedAt{year month day} "					\
	"media{id type title{romaji english} episodes chapters volumes "	\
	"format coverImage{medium}}"

const char queries_save_list_entry[] =
	"mutation SaveListEntry($mediaId:Int,$status:MediaListStatus,"
	"$progress:Int,$progressVolumes:Int,$scoreRaw:Int,$repeat:Int,"
	"$notes:String,"
	"$private:Boolean,$startedAt:FuzzyDateInput,"
	"$completedAt:FuzzyDateInput){"
	"SaveMediaListEntry(mediaId:$mediaId,status:$status,"
	"progress:$progress,progressVolumes:$progressVolumes,"
	"scoreRaw:$scoreRaw,repeat:$repeat,notes:$notes,"
	"private:$private,startedAt:$startedAt,completedAt:$completedAt){"
	QUERIES_LIST_ENTRY
	"}}";

const char queries_delete_list_entry[] =
	"mutation DeleteListEntry($id:Int){"
	"DeleteMediaListEntry(id:$id){deleted}"
	"}";

const char queries_media_list_entry[] =
	"query MediaListEntry($mediaId:Int,$userId:Int){"
	"MediaList(mediaId:$mediaId,userId:$userId){"
	QUERIES_LIST_ENTRY
	"}}";

/* The fields of a title in a franchise, fetched or seen on a relation. */
#define QUERIES_FRANCHISE_MEDIA						\
	"id type title{romaji english} format status episodes duration "	\
	"seasonYear startDate{year month day} averageScore popularity "	\
	"isAdult coverImage{medium} siteUrl"

const char queries_franchise_hop[] =
	"query FranchiseHop($ids:[Int],$perPage:Int){"
	"Page(page:1,perPage:$perPage){"
	"media(id_in:$ids,type:ANIME){"
	QUERIES_FRANCHISE_MEDIA " "
	"relations{edges{relationType node{" QUERIES_FRANCHISE_MEDIA "}}}"
	"}}}";

/* A title as one of a person's or a studio's works. */
#define QUERIES_WORK							\
	"id type title{romaji english} format status episodes "		\
	"seasonYear startDate{year} averageScore popularity isAdult "	\
	"coverImage{medium} siteUrl"

const char queries_staff_info[] =
	"query StaffInfo($id:Int,$search:String,$perPage:Int){"
	"Staff(id:$id,search:$search){"
	"id name{full native alternative} image{medium} "
	"description(asHtml:false) primaryOccupations gender age "
	"yearsActive homeTown languageV2 favourites siteUrl "
	"staffMedia(sort:[POPULARITY_DESC],type:ANIME,perPage:$perPage){"
	"pageInfo{total hasNextPage} edges{staffRole node{" QUERIES_WORK "}}} "
	"characterMedia(sort:[POPULARITY_DESC],perPage:$perPage){"
	"pageInfo{total hasNextPage} "
	"edges{characterRole characters{id name{full}} "
	"node{" QUERIES_WORK "}}}"
	"}}";

const char queries_studio_info[] =
	"query StudioInfo($id:Int,$search:String,$perPage:Int){"
	"Studio(id:$id,search:$search){"
	"id name isAnimationStudio favourites siteUrl "
	"media(sort:[POPULARITY_DESC],isMain:true,perPage:$perPage){"
	"pageInfo{total hasNextPage} nodes{" QUERIES_WORK "}} "
	"first:media(sort:[START_DATE],isMain:true,perPage:1){"
	"nodes{startDate{year}}} "
	"latest:media(sort:[START_DATE_DESC],isMain:true,perPage:1){"
	"nodes{startDate{year}}}"
	"}}";

const char queries_user_airing[] =
	"query UserAiring($mediaIds:[Int],$airingAt_greater:Int,"
	"$airingAt_lesser:Int,$perPage:Int){"
	"Page(page:1,perPage:$perPage){"
	"pageInfo{total hasNextPage} "
	"airingSchedules(mediaId_in:$mediaIds,airingAt_greater:"
	"$airingAt_greater,airingAt_lesser:$airingAt_lesser,sort:[TIME]){"
	"id airingAt episode mediaId"
	"}}}";

const char queries_user_profile[] =
	"query UserProfile($id:Int,$name:String){"
	"User(id:$id,name:$name){id name siteUrl avatar{medium} "
	"statistics{anime{count episodesWatched minutesWatched meanScore "
	"statuses(sort:[COUNT_DESC]){status count} "
	"genres(limit:25,sort:[COUNT_DESC]){genre count minutesWatched "
	"meanScore} "
	"tags(limit:25,sort:[COUNT_DESC]){tag{name} count minutesWatched "
	"meanScore}}} "
	"favourites{"
	"anime(perPage:10){pageInfo{total} nodes{id title{romaji english} "
	"format seasonYear}} "
	"characters(perPage:10){pageInfo{total} nodes{id name{full}}} "
	"staff(perPage:10){pageInfo{total} nodes{id name{full}}} "
	"studios(perPage:10){pageInfo{total} nodes{id name}}}"
	"}}";

/* The favourites a toggle may name: every page holds at most 25. */
const char queries_toggle_favourite[] =
	"mutation ToggleFavourite($animeId:Int,$characterId:Int,"
	"$staffId:Int,$studioId:Int){"
	"ToggleFavourite(animeId:$animeId,characterId:$characterId,"
	"staffId:$staffId,studioId:$studioId){"
	"anime(perPage:25){pageInfo{total hasNextPage} nodes{id}} "
	"characters(perPage:25){pageInfo{total hasNextPage} nodes{id}} "
	"staff(perPage:25){pageInfo{total hasNextPage} nodes{id}} "
	"studios(perPage:25){pageInfo{total hasNextPage} nodes{id}}"
	"}}";

const struct queries_op queries_ops[] = {
	{ "SearchMedia", queries_search_media },
	{ "TrendingMedia", queries_trending_media },
	{ "SeasonalMedia", queries_seasonal_media },
	{ "MediaDetails", queries_media_details },
	{ "MediaByIds", queries_media_by_ids },
	{ "CharacterById", queries_character_by_id },
	{ "CharacterSearch", queries_character_search },
	{ "AiringSchedule", queries_airing_schedule },
	{ "GenresAndTags", queries_genres_and_tags },
	{ "Viewer", queries_viewer },
	{ "UserList", queries_user_list },
	{ "SaveListEntry", queries_save_list_entry },
	{ "DeleteListEntry", queries_delete_list_entry },
	{ "MediaListEntry", queries_media_list_entry },
	{ "FranchiseHop", queries_franchise_hop },
	{ "StaffInfo", queries_staff_info },
	{ "StudioInfo", queries_studio_info },
	{ "UserAiring", queries_user_airing },
	{ "UserProfile", queries_user_profile },
	{ "ToggleFavourite", queries_toggle_favourite },
};

const size_t queries_nops = sizeof queries_ops / sizeof queries_ops[0];

const char *
queries_get(const char *name)
{
	size_t	i;

	if (name == NULL)
		return (NULL);
	for (i = 0; i < queries_nops; i++) {
		if (strcmp(queries_ops[i].name, name) == 0)
			return (queries_ops[i].document);
	}
	return (NULL);
}
