/*
 * harness_proc.c - running `dray` in child processes. Output goes to files
 * in the scenario's folder, not pipes, so a child that writes megabytes
 * of rows never blocks on a reader; each child leads its own process group
 * so a timeout takes its workers down with it, and so does a Ctrl-C, which
 * reaches only the harness (the children are not in the terminal's
 * foreground group): the harness stops them itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

extern char **environ;

/* A stopped command gets SIGTERM, and a second one a moment later: dray
   run lets in-flight loads finish after the first (docs/RUNTIME.md
   "Shutdown"), kills its workers and exits at the second. Two signals sent
   at once could merge into one, hence the pause. What is left after the
   grace period gets SIGKILL. */
#define STOP_SECOND_S 0.3
#define STOP_GRACE_S 5

static volatile sig_atomic_t first_signal, n_signals;
static sig_atomic_t tolerated; /* signals the running commands survive */

static void on_signal(int sig)
{
    if (first_signal == 0)
        first_signal = sig;
    n_signals++;
}

void dray__interrupt_install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int dray__interrupted(void)
{
    return first_signal;
}

void dray__interrupt_tolerate(void)
{
    tolerated = n_signals;
}

static int stop_requested(void)
{
    return n_signals > tolerated;
}

/* environ with the extra entries replacing those of the same name. */
static char **make_env(const char *const *extra)
{
    size_t n = 0, k = 0, m = 0;
    char **env;

    while (environ[n])
        n++;
    while (extra && extra[m])
        m++;
    env = dray__xmalloc((n + m + 1) * sizeof(*env));
    for (size_t i = 0; i < n; i++) {
        int replaced = 0;
        for (size_t j = 0; j < m && !replaced; j++) {
            size_t eq = strcspn(extra[j], "=");
            replaced = strncmp(environ[i], extra[j], eq + 1) == 0;
        }
        if (!replaced)
            env[k++] = environ[i];
    }
    for (size_t j = 0; j < m; j++)
        env[k++] = (char *)extra[j];
    env[k] = NULL;
    return env;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int dray__proc_run(const char *const *argv, const char *const *env,
                   const char *in_file, const char *scratch_dir, int timeout_s,
                   struct proc_result *r)
{
    static unsigned counter;
    char out_path[4096], err_path[4096];
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    char **envp = make_env(env);
    pid_t pid;
    int rc, status = 0;
    double deadline = now_s() + timeout_s, stopped_at = 0;
    int stop_signals = 0;

    memset(r, 0, sizeof(*r));
    if (stop_requested()) {
        free(envp);
        errno = EINTR;
        return -1;
    }
    counter++;
    snprintf(out_path, sizeof(out_path), "%s/.out.%u", scratch_dir, counter);
    snprintf(err_path, sizeof(err_path), "%s/.err.%u", scratch_dir, counter);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, in_file ? in_file : "/dev/null",
                                     O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_path,
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    rc = posix_spawn(&pid, argv[0], &fa, &attr, (char *const *)argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    free(envp);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    /* Polling keeps the timeout simple; a scenario's commands take at
       least tens of milliseconds, so 10 ms steps cost nothing. */
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            status = 0;
            break;
        }
        if (now_s() > deadline && !r->timed_out) {
            r->timed_out = 1;
            kill(-pid, SIGKILL);
        }
        /* Interrupted: SIGTERM twice, so dray run ends its workers and
           leaves its spool tidy; SIGKILL when that takes too long. */
        if (stop_requested() && !r->stopped) {
            r->stopped = 1;
            stopped_at = now_s();
        }
        if (r->stopped) {
            double waited = now_s() - stopped_at;
            int sig = 0;
            if (stop_signals == 0 ||
                (stop_signals == 1 && waited > STOP_SECOND_S))
                sig = SIGTERM;
            else if (stop_signals == 2 && waited > STOP_GRACE_S)
                sig = SIGKILL;
            if (sig != 0) {
                kill(-pid, sig);
                stop_signals++;
            }
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (r->timed_out || r->stopped)
        kill(-pid, SIGKILL); /* workers it left behind */
    if (WIFEXITED(status)) {
        r->status = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        r->signal = WTERMSIG(status);
        r->status = 128 + r->signal;
    }
    dray__read_file(out_path, &r->out);
    dray__read_file(err_path, &r->err);
    if (r->out.data == NULL)
        dray__xadd(&r->out, "", 0);
    if (r->err.data == NULL)
        dray__xadd(&r->err, "", 0);
    unlink(out_path);
    unlink(err_path);
    return 0;
}

void dray__proc_release(struct proc_result *r)
{
    dray_buf_release(&r->out);
    dray_buf_release(&r->err);
}
