/*
 * The loader worker: a process that runs one destination's plugin and
 * nothing else, so that a plugin that crashes, aborts or hangs takes only
 * this process down. 'dray run' starts it with fork+exec as
 *     dray __worker -c CONFIG --destination NAME
 * and talks to it over its stdin and stdout (one socket), one line per
 * message:
 *     parent: LOAD <attempt> [<timeout s>] <batch file>   (+ the lease fd)
 *     worker: {"status":"OK","rows":{...},"rejected":N}
 *             {"status":"E_RETRYABLE","message":"...","retry_after_ms":N}
 *             {"status":"DAMAGED","message":"..."}   (the batch file)
 * and, once at start, READY or {"status":"E_CONFIG",...} when the
 * destination cannot be made. EOF on stdin ends it.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "batch.h"
#include "cli.h"
#include "config.h"
#include "destination.h"
#include "host_api.h"
#include "log.h"
#include "plugin_loader.h"

/*
 * The parent's channel, moved off fds 0 and 1 at start: a plugin that
 * prints to stdout (or reads stdin) must not garble the protocol. Its
 * stdout goes to stderr, its stdin is /dev/null.
 */
static FILE *proto_out;
static int proto_in = 0;

static void protect_protocol(void)
{
    int in = fcntl(0, F_DUPFD_CLOEXEC, 3), out = fcntl(1, F_DUPFD_CLOEXEC, 3);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

    proto_out = out >= 0 ? fdopen(out, "w") : NULL;
    if (in < 0 || proto_out == NULL || null < 0 || dup2(null, 0) < 0 ||
        dup2(2, 1) < 0) {
        /* Cannot happen with fds to spare; speak on 0 and 1 as given. */
        if (proto_out != NULL)
            fclose(proto_out);
        else if (out >= 0)
            close(out);
        if (in >= 0)
            close(in);
        proto_out = stdout;
        proto_in = 0;
    } else {
        proto_in = in;
    }
    if (null >= 0)
        close(null);
}

static void reply(json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    FILE *out = proto_out != NULL ? proto_out : stdout;

    fputs(text ? text : "{\"status\":\"E_PERMANENT\"}", out);
    fputc('\n', out);
    fflush(out);
    free(text);
    json_decref(j);
}

static void reply_error(const char *status, const char *message,
                        uint32_t retry_after_ms)
{
    json_t *j = json_pack("{s:s, s:s}", "status", status, "message",
                          message ? message : "");

    if (retry_after_ms)
        json_object_set_new(j, "retry_after_ms", json_integer(retry_after_ms));
    reply(j);
}

static void load_one(struct instance *inst, uint32_t attempt, const char *file,
                     const char *ns)
{
    struct strbuf err = STRBUF_INIT;
    struct dray_batch *b = batch_open_spool(file, attempt, ns, &err);
    struct dray_error e;
    dray_status st;
    size_t n;

    if (b == NULL) {
        reply_error("DAMAGED", strbuf_str(&err), 0);
        strbuf_release(&err);
        return;
    }
    strbuf_release(&err);
    error_init(&e);
    host_faults_arm(attempt);
    st = inst->plugin->vt.load_batch(inst->state, b, &e);
    host_faults_disarm();
    if (st == DRAY_OK) {
        json_t *rows = json_object();
        const struct batch_count *c = batch_counts(b, &n);
        for (size_t i = 0; i < n; i++)
            json_object_set_new(rows, c[i].table, json_integer(c[i].rows));
        batch_rejects(b, &n);
        reply(json_pack("{s:s, s:o, s:I}", "status", "OK", "rows", rows,
                        "rejected", (json_int_t)n));
    } else {
        char *msg;
        if (e.cls == DRAY_OK)
            e.cls = st;
        msg = error_oneline(&e);
        reply_error(dray_status_name(e.cls), msg, e.retry_after_ms);
        free(msg);
    }
    error_release(&e);
    batch_free(b);
}

/* Commands from the parent, with the lease fds that came along. */
struct input {
    struct strbuf buf;
    int lease_fd; /* received with the pending command, or -1 */
    int eof;
};

/* Reads until a line is complete. 1 with the line in *line (malloc'd),
   0 at EOF. */
static int next_command(struct input *in, char **line)
{
    for (;;) {
        char data[4096], cbuf[CMSG_SPACE(sizeof(int) * 4)];
        char *nl = in->buf.len ? memchr(in->buf.buf, '\n', in->buf.len) : NULL;
        struct msghdr msg;
        struct iovec iov = {data, sizeof(data)};
        ssize_t n;

        if (nl != NULL) {
            size_t k = (size_t)(nl - in->buf.buf);
            *line = xmalloc(k + 1);
            memcpy(*line, in->buf.buf, k);
            (*line)[k] = '\0';
            memmove(in->buf.buf, nl + 1, in->buf.len - k - 1);
            in->buf.len -= k + 1;
            in->buf.buf[in->buf.len] = '\0';
            return 1;
        }
        if (in->eof)
            return 0;
        memset(&msg, 0, sizeof(msg));
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf;
        msg.msg_controllen = sizeof(cbuf);
        n = recvmsg(proto_in, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == ENOTSOCK)
            n = read(proto_in, data, sizeof(data)); /* a pipe, in tests */
        else if (n >= 0)
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL;
                 c = CMSG_NXTHDR(&msg, c)) {
                size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                    continue;
                for (size_t i = 0; i < k; i++) {
                    int fd;
                    memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                    if (in->lease_fd >= 0)
                        close(in->lease_fd);
                    in->lease_fd = fd;
                }
            }
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            in->eof = 1;
            continue;
        }
        strbuf_add(&in->buf, data, (size_t)n);
    }
}

int cmd_worker(int argc, char **argv)
{
    const char *cfg_path = NULL, *dest_name = NULL;
    struct config cfg = {0};
    struct plugin_set set = {0};
    struct strbuf errors = STRBUF_INIT;
    struct dray_config *bound = NULL;
    const struct plugin *p = NULL;
    struct instance inst;
    struct dray_error e;
    char errbuf[1024];
    char *line = NULL;
    struct input in = {STRBUF_INIT, -1, 0};
    int rc = EXITCODE_CONFIG;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-c") == 0)
            cfg_path = argv[i + 1];
        else if (strcmp(argv[i], "--destination") == 0)
            dest_name = argv[i + 1];
    }
    if (cfg_path == NULL || dest_name == NULL) {
        fputs("dray __worker: internal command; started by 'dray run'\n",
              stderr);
        return EXITCODE_USAGE;
    }
    protect_protocol();
    if (config_load(cfg_path, &cfg, errbuf, sizeof(errbuf)) != 0) {
        reply_error("E_CONFIG", errbuf, 0);
        return EXITCODE_CONFIG;
    }
    const struct config_destination *d = config_destination(&cfg, dest_name);
    if (d == NULL) {
        reply_error("E_CONFIG", "the destination is not in the config", 0);
        goto out;
    }
    /* Before any plugin holds the host table. */
    host_faults_from_env();
    plugins_set_search_path(&set, &cfg);
    plugins_discover(&set);
    if (dest_resolve(&set, d, cfg.path, cfg.dir, &p, &bound, &errors) != 0) {
        /* One reply line: problems joined. */
        while (errors.len && errors.buf[errors.len - 1] == '\n')
            errors.buf[--errors.len] = '\0';
        for (size_t i = 0; i < errors.len; i++)
            if (errors.buf[i] == '\n')
                errors.buf[i] = ' ';
        reply_error("E_CONFIG", strbuf_str(&errors), 0);
        goto out;
    }
    error_init(&e);
    if (instance_create(&inst, p, bound, &e) != 0) {
        char *msg = error_oneline(&e);
        reply_error(e.cls == DRAY_E_RETRYABLE ? "E_RETRYABLE" : "E_CONFIG", msg,
                    e.retry_after_ms);
        free(msg);
        error_release(&e);
        goto out;
    }
    error_release(&e);
    fputs("READY\n", proto_out);
    fflush(proto_out);
    while (next_command(&in, &line) == 1) {
        unsigned attempt;
        long long timeout_s = 0;
        int off = 0, off2 = 0;

        if (sscanf(line, "LOAD %u %n", &attempt, &off) != 1 || off == 0) {
            reply_error("E_ABI", "unknown command", 0);
        } else {
            if (sscanf(line + off, "%lld %n", &timeout_s, &off2) == 1 &&
                off2 > 0 && line[off + off2] != '\0')
                off += off2;
            else
                timeout_s = 0;
            /* Should the parent die, nothing else stops a hung load that
               holds the lease: a deadline of our own, past the parent's. */
            if (timeout_s > 0)
                alarm((unsigned)(timeout_s + 60));
            load_one(&inst, attempt, line + off, d->ns);
            alarm(0);
        }
        /* The lease is released once the parent has closed its copy too. */
        if (in.lease_fd >= 0)
            close(in.lease_fd);
        in.lease_fd = -1;
        host_stats_after_load();
        free(line);
        line = NULL;
    }
    instance_destroy(&inst);
    rc = EXITCODE_OK;
out:
    free(line);
    strbuf_release(&in.buf);
    dest_config_free(bound);
    strbuf_release(&errors);
    plugins_release(&set);
    config_release(&cfg);
    return rc;
}
