/*
 * http_global.c - libcurl's process-wide set-up, done once.
 */
#include <pthread.h>
#include <stdio.h>

#include <curl/curl.h>

#include "dray/dray_http.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static CURLcode init_rc = CURLE_OK;

static void init_curl(void)
{
    init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int dray_http_global_init(char *err, size_t errlen)
{
    pthread_once(&once, init_curl);
    if (init_rc != CURLE_OK) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "libcurl did not initialise: %s",
                     curl_easy_strerror(init_rc));
        return -1;
    }
    return 0;
}
