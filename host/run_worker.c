/*
 * The parent's side of a loader worker: start it, send it a batch with
 * the stream's lease, read its answers, stop it. The protocol is in
 * worker.c and docs/RUNTIME.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

int64_t run_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t run_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *run_self_exe(void)
{
    static char path[4096];
    ssize_t n;

    if (path[0] != '\0')
        return path;
    n = readlink("/proc/self/exe", path, sizeof(path) - 1);
    if (n <= 0)
        return NULL;
    path[n] = '\0';
    return path;
}

int run_worker_start(struct run_worker *w, const char *exe, const char *config,
                     const char *destination, struct strbuf *err)
{
    int sv[2];
    pid_t pid;

    memset(w, 0, sizeof(*w));
    w->fd = -1;
    w->in = (struct strbuf)STRBUF_INIT;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        strbuf_addf(err, "cannot start a worker: %s", strerror(errno));
        return -1;
    }
    pid = fork();
    if (pid < 0) {
        strbuf_addf(err, "cannot start a worker: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    if (pid == 0) {
        /* The child: its end of the socket is its stdin and stdout. The
           parent decides when it stops, so terminal signals are not its
           business (a Ctrl-C must not kill a load in the middle). */
        sigset_t none;
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        signal(SIGPIPE, SIG_DFL);
        /* The loop blocks signals while it works; a mask survives exec. */
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0)
            _exit(127);
        execl(exe, exe, "__worker", "-c", config, "--destination", destination,
              (char *)NULL);
        fprintf(stderr, "dray: cannot run '%s': %s\n", exe, strerror(errno));
        _exit(127);
    }
    close(sv[1]);
    w->pid = pid;
    w->fd = sv[0];
    fcntl(w->fd, F_SETFL, fcntl(w->fd, F_GETFL) | O_NONBLOCK);
    w->state = WORKER_STARTING;
    return 0;
}

int run_worker_send(struct run_worker *w, uint32_t attempt, int64_t timeout_ms,
                    const char *file, int lease_fd)
{
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct strbuf line = STRBUF_INIT;
    struct msghdr msg;
    struct cmsghdr *c;
    struct iovec iov;
    size_t off = 0;
    int rc = 0;

    strbuf_addf(&line, "LOAD %u %lld %s\n", attempt,
                (long long)((timeout_ms + 999) / 1000), file);
    memset(&msg, 0, sizeof(msg));
    memset(cbuf, 0, sizeof(cbuf));
    while (off < line.len) {
        iov.iov_base = line.buf + off;
        iov.iov_len = line.len - off;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        if (off == 0 && lease_fd >= 0) {
            /* The lease travels with the line's first byte. */
            msg.msg_control = cbuf;
            msg.msg_controllen = sizeof(cbuf);
            c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(c), &lease_fd, sizeof(int));
        } else {
            msg.msg_control = NULL;
            msg.msg_controllen = 0;
        }
        ssize_t n = sendmsg(w->fd, &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                /* A short line never fills the socket; wait a moment. */
                struct timespec ts = {0, 1000000};
                nanosleep(&ts, NULL);
                continue;
            }
            rc = -1;
            break;
        }
        off += (size_t)n;
    }
    strbuf_release(&line);
    return rc;
}

int run_worker_read(struct run_worker *w, char **line)
{
    char buf[4096];

    *line = NULL;
    for (;;) {
        char *nl = w->in.len ? memchr(w->in.buf, '\n', w->in.len) : NULL;
        ssize_t n;

        if (nl != NULL) {
            size_t k = (size_t)(nl - w->in.buf);
            *line = xmalloc(k + 1);
            memcpy(*line, w->in.buf, k);
            (*line)[k] = '\0';
            memmove(w->in.buf, nl + 1, w->in.len - k - 1);
            w->in.len -= k + 1;
            w->in.buf[w->in.len] = '\0';
            return 1;
        }
        n = read(w->fd, buf, sizeof(buf));
        if (n > 0) {
            strbuf_add(&w->in, buf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        return -1;
    }
}

int run_worker_stop(struct run_worker *w, int sig, int block)
{
    pid_t got;

    if (w->pid <= 0)
        return 1;
    if (sig != 0)
        kill(w->pid, sig);
    else if (w->fd >= 0)
        shutdown(w->fd, SHUT_WR); /* EOF: it exits when idle */
    do
        got = waitpid(w->pid, &w->wstatus, block ? 0 : WNOHANG);
    while (got < 0 && errno == EINTR);
    if (got != w->pid)
        return 0;
    w->pid = 0;
    w->state = WORKER_DEAD;
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    strbuf_release(&w->in);
    return 1;
}

void run_describe_exit(int wstatus, struct strbuf *out)
{
    if (WIFSIGNALED(wstatus))
        strbuf_addf(out, "was killed by signal %d (%s)", WTERMSIG(wstatus),
                    strsignal(WTERMSIG(wstatus)));
    else if (WIFEXITED(wstatus))
        strbuf_addf(out, "exited with status %d", WEXITSTATUS(wstatus));
    else
        strbuf_adds(out, "ended");
}
