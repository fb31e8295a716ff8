/*
 * tools_sigv4 - signs request descriptions for sigv4_botocore.py, which
 * compares the results with botocore's signer.
 *
 * stdin: one JSON object a line,
 *   {"method": "PUT", "host": "b.s3.amazonaws.com", "path": "/raw key",
 *    "params": [["name", "value" or null], ...],
 *    "headers": [["Name", "value"], ...],
 *    "body": "text" | "payload": "UNSIGNED-PAYLOAD",
 *    "region": "us-east-1", "service": "s3", "time": 1369353600,
 *    "akid": "...", "secret": "...", "token": "..." (optional)}
 * The path is raw: it goes through dray_aws_uri_encode (keeping '/'), the
 * params through dray_aws_canonical_query, the body through
 * dray_sha256_hex, as the S3 client does.
 * stdout: one JSON object a line, {"path", "query", "canonical_request",
 * "string_to_sign", "authorization", "amz_date"} or {"error": rc}.
 */
#include "dray/dray_aws.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str_of(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* Signs one description into result; returns 0, or the failing rc. */
static int sign_one(const json_t *req, json_t *result)
{
    const json_t *jparams = json_object_get(req, "params");
    const json_t *jheaders = json_object_get(req, "headers");
    size_t np = json_array_size(jparams), nh = json_array_size(jheaders);
    struct dray_aws_param *params = calloc(np + 1, sizeof(*params));
    struct dray_http_header *headers = calloc(nh + 1, sizeof(*headers));
    struct dray_buf path = DRAY_BUF_INIT, query = DRAY_BUF_INIT;
    struct dray_sigv4_output out = DRAY_SIGV4_OUTPUT_INIT;
    struct dray_aws_creds creds;
    struct dray_sigv4_input in;
    const char *raw_path = str_of(req, "path"), *body = str_of(req, "body");
    char body_hash[65];
    int rc = -2;

    if (params == NULL || headers == NULL)
        goto done;
    for (size_t i = 0; i < np; i++) {
        const json_t *p = json_array_get(jparams, i);

        params[i].name = json_string_value(json_array_get(p, 0));
        params[i].value = json_string_value(json_array_get(p, 1));
    }
    for (size_t i = 0; i < nh; i++) {
        const json_t *h = json_array_get(jheaders, i);

        headers[i].name = json_string_value(json_array_get(h, 0));
        headers[i].value = json_string_value(json_array_get(h, 1));
    }
    if (raw_path == NULL) {
        rc = -1;
        goto done;
    }
    if (dray_aws_uri_encode(&path, raw_path, strlen(raw_path), 1) != 0 ||
        dray_aws_canonical_query(&query, params, np) != 0)
        goto done;

    memset(&creds, 0, sizeof(creds));
    creds.access_key_id = (char *)str_of(req, "akid");
    creds.secret_access_key = (char *)str_of(req, "secret");
    creds.session_token = (char *)str_of(req, "token");
    memset(&in, 0, sizeof(in));
    in.method = str_of(req, "method");
    in.host = str_of(req, "host");
    in.canonical_uri = path.data;
    in.canonical_query = query.data;
    in.headers = headers;
    in.n_headers = nh;
    if (body != NULL) {
        dray_sha256_hex(body, strlen(body), body_hash);
        in.payload_hash = body_hash;
    } else {
        in.payload_hash = str_of(req, "payload");
    }
    in.region = str_of(req, "region");
    in.service = str_of(req, "service");
    in.now = (time_t)json_integer_value(json_object_get(req, "time"));
    in.creds = &creds;
    rc = dray_sigv4_sign(&in, &out);
    if (rc != 0)
        goto done;
    if (json_object_set_new(result, "path", json_string(path.data)) ||
        json_object_set_new(result, "query",
                            json_string(query.data ? query.data : "")) ||
        json_object_set_new(result, "canonical_request",
                            json_string(out.canonical_request.data)) ||
        json_object_set_new(result, "string_to_sign",
                            json_string(out.string_to_sign.data)) ||
        json_object_set_new(result, "authorization",
                            json_string(out.authorization.data)) ||
        json_object_set_new(result, "amz_date", json_string(out.amz_date)))
        rc = -2;
done:
    dray_sigv4_output_release(&out);
    dray_buf_release(&path);
    dray_buf_release(&query);
    free(params);
    free(headers);
    return rc;
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    int status = 0;

    while (getline(&line, &cap, stdin) > 0) {
        json_error_t jerr;
        json_t *req = json_loads(line, 0, &jerr);
        json_t *result = json_object();
        char *text;
        int rc;

        if (req == NULL || result == NULL) {
            fprintf(stderr, "tools_sigv4: bad input line: %s\n", jerr.text);
            json_decref(req);
            json_decref(result);
            status = 1;
            break;
        }
        rc = sign_one(req, result);
        if (rc != 0) {
            json_object_clear(result);
            json_object_set_new(result, "error", json_integer(rc));
        }
        text = json_dumps(result, JSON_COMPACT);
        if (text == NULL) {
            status = 1;
        } else {
            printf("%s\n", text);
            free(text);
        }
        json_decref(req);
        json_decref(result);
        if (status != 0)
            break;
    }
    free(line);
    return status;
}
