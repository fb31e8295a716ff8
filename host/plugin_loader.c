/*
 * Plugin discovery and loading. The checks run in the order PostgreSQL's
 * dfmgr.c uses for its magic block: the ABI version first, because nothing
 * else of a descriptor from another ABI can be trusted; then layout, then
 * content. Everything the host keeps is copied out of the plugin before a
 * refused library is closed.
 */
#include "plugin_loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ltdl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_api.h"
#include "plugin_checks.h"
#include "log.h"
#include "strbuf.h"

/* libltdl is not thread-safe: every lt_* call and the lt_dlerror() that
   follows it happen under this lock. */
static pthread_mutex_t loader_lock = PTHREAD_MUTEX_INITIALIZER;

#define HIGHEST_PROBED_MAJOR 9

static struct plugin *append_plugin(struct plugin_set *set, const char *file)
{
    struct plugin *p;

    set->items = xrealloc(set->items, (set->n + 1) * sizeof(*set->items));
    p = &set->items[set->n++];
    memset(p, 0, sizeof(*p));
    p->file = xstrdup(file);
    p->status = PLUGIN_OK;
    return p;
}

static void close_handle(struct plugin *p)
{
    if (p->handle == NULL)
        return;
    pthread_mutex_lock(&loader_lock);
    lt_dlclose((lt_dlhandle)p->handle);
    pthread_mutex_unlock(&loader_lock);
    p->handle = NULL;
}

/* Reads the first bytes: a file that is no ELF object gets a plain reason
   instead of the dynamic loader's. */
static int has_elf_magic(const char *path)
{
    unsigned char magic[4];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = read(fd, magic, sizeof(magic));
    close(fd);
    return n == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' &&
           magic[3] == 'F';
}

static int open_library(struct plugin *p)
{
    lt_dladvise advise;
    lt_dlhandle h = NULL;
    void *probe;
    const char *why = NULL;
    int elf = has_elf_magic(p->file);

    if (elf < 0) {
        plugin_refuse(p, "cannot be read: %s", strerror(errno));
        return -1;
    }
    if (elf == 0) {
        plugin_refuse(p,
                      "not a shared object (no ELF header); remove it from the "
                      "plugin folder");
        return -1;
    }
    pthread_mutex_lock(&loader_lock);
    /*
     * libltdl opens with lazy binding and replaces the dynamic loader's
     * message with "file not found". Opening the file first with RTLD_NOW
     * binds every symbol now (a plugin whose library lacks a function is
     * refused here, not killed at its first call) and keeps dlerror()'s
     * words; libltdl then finds the object already mapped and bound.
     */
    probe = dlopen(p->file, RTLD_NOW | RTLD_LOCAL);
    if (probe == NULL) {
        why = dlerror();
        char *copy = xstrdup(why ? why : "unknown error");
        pthread_mutex_unlock(&loader_lock);
        plugin_refuse(p,
                      "cannot be loaded: %s; install the libraries it needs or "
                      "rebuild it",
                      copy);
        free(copy);
        return -1;
    }
    if (lt_dladvise_init(&advise) == 0) {
        /* Local symbols: two plugins that bundle different copies of a
           library must not resolve against each other. */
        lt_dladvise_local(&advise);
        h = lt_dlopenadvise(p->file, advise);
        if (h == NULL)
            why = lt_dlerror();
        lt_dladvise_destroy(&advise);
    } else {
        why = lt_dlerror();
    }
    dlclose(probe);
    if (h != NULL) {
        const lt_dlinfo *info = lt_dlgetinfo(h);
        if (info && !info->is_symlocal)
            log_debug("plugin '%s' was not loaded with local symbols", p->file);
    }
    /* Copy the message while the lock still guards libltdl's buffer. */
    char *why_copy = xstrdup(why ? why : "unknown error");
    pthread_mutex_unlock(&loader_lock);
    if (h == NULL) {
        plugin_refuse(p, "cannot be loaded by libltdl: %s", why_copy);
        free(why_copy);
        return -1;
    }
    free(why_copy);
    p->handle = h;
    return 0;
}

static void *find_symbol(struct plugin *p, const char *name)
{
    void *sym;

    pthread_mutex_lock(&loader_lock);
    sym = lt_dlsym((lt_dlhandle)p->handle, name);
    (void)lt_dlerror(); /* clear it */
    pthread_mutex_unlock(&loader_lock);
    return sym;
}

/* No v1 entry: say which ABI the file targets, if any. */
static void refuse_without_entry(struct plugin *p)
{
    for (int major = HIGHEST_PROBED_MAJOR; major >= 2; major--) {
        char sym[64];
        snprintf(sym, sizeof(sym), "dray_plugin_entry_v%d", major);
        if (find_symbol(p, sym) != NULL) {
            plugin_refuse(
                p,
                "targets ABI %d; this host supports ABI %d; rebuild it "
                "against the dray SDK for ABI %d, or use a dray that "
                "supports ABI %d",
                major, DRAY_ABI_MAJOR, DRAY_ABI_MAJOR, major);
            return;
        }
    }
    plugin_refuse(p,
                  "not a dray plugin: it exports no %s; build it with "
                  "dray_add_plugin() and DRAY_PLUGIN_DEFINE()",
                  DRAY_PLUGIN_ENTRY_V1_NAME);
}

static const struct plugin *find_named(const struct plugin_set *set,
                                       const char *name, size_t before)
{
    for (size_t i = 0; i < before; i++) {
        const struct plugin *q = &set->items[i];
        if ((q->name && strcmp(q->name, name) == 0) ||
            (q->name == NULL && q->claimed && strcmp(q->claimed, name) == 0))
            return q;
    }
    return NULL;
}

/* Entry point, descriptor checks and copies; on_load is separate. */
/* The name a file claims before its descriptor can be read: its stem. */
static void claim_stem(struct plugin *p)
{
    const char *base = strrchr(p->file, '/');
    size_t n;

    base = base ? base + 1 : p->file;
    n = strlen(base);
    if (n > 3 && strcmp(base + n - 3, ".so") == 0)
        n -= 3;
    free(p->claimed);
    p->claimed = xmalloc(n + 1);
    memcpy(p->claimed, base, n);
    p->claimed[n] = '\0';
}

/* Entry point, descriptor checks and copies; on_load is separate. The
   checks run in the order that can be trusted: major and size first, then
   the name (so a broken file still claims it), then everything else. */
static int inspect(struct plugin_set *set, struct plugin *p)
{
    dray_plugin_entry_v1_fn entry;
    const struct dray_plugin_desc *d = NULL;
    struct dray_plugin_desc desc;
    const struct plugin *first;
    int32_t rc;
    void *sym = find_symbol(p, DRAY_PLUGIN_ENTRY_V1_NAME);

    claim_stem(p);
    if (sym == NULL) {
        refuse_without_entry(p);
        return -1;
    }
    /* dlsym hands out functions as void *; POSIX guarantees the round
       trip. */
    memcpy(&entry, &sym, sizeof(entry));
    rc = entry(host_api(), &d);
    if (rc != DRAY_OK || d == NULL) {
        plugin_refuse(p, "its entry point failed (%s)%s",
                      rc == DRAY_OK ? "no descriptor" : dray_status_name(rc),
                      rc == DRAY_E_ABI ? "; it may need a newer dray" : "");
        return -1;
    }
    p->abi_major = d->hdr.abi_major;
    p->abi_minor = d->hdr.abi_minor;
    if (d->hdr.abi_major != DRAY_ABI_MAJOR) {
        plugin_refuse(
            p,
            "its descriptor declares ABI %u.%u; this host supports ABI %d; "
            "rebuild it against the dray SDK for ABI %d",
            (unsigned)d->hdr.abi_major, (unsigned)d->hdr.abi_minor,
            DRAY_ABI_MAJOR, DRAY_ABI_MAJOR);
        return -1;
    }
    if (plugin_require_size(p, "descriptor", d->hdr.struct_size,
                            DRAY_PLUGIN_DESC_SIZE_1_0) != 0)
        return -1;
    plugin_copy_struct(&desc, sizeof(desc), d, d->hdr.struct_size);
    if (!plugin_valid_name(desc.name, 63)) {
        char *shown = plugin_dup_text(desc.name ? desc.name : "(null)", 80);
        plugin_refuse(p,
                      "has an invalid name '%s'; a plugin name is "
                      "[a-z][a-z0-9_]*, at most 63 characters",
                      shown);
        free(shown);
        return -1;
    }
    p->name = xstrdup(desc.name);
    p->version = plugin_dup_text(desc.version, 64);
    p->vendor = plugin_dup_text(desc.vendor, 128);
    p->license = plugin_dup_text(desc.license, 128);
    p->description = plugin_dup_text(desc.description, 1024);
    p->caps = desc.caps;

    /* The first file that declares a name owns it, loaded or not: a broken
       override must not let another file take its place silently. */
    first = find_named(set, p->name, (size_t)(p - set->items));
    if (first) {
        plugin_refuse(p, "shadowed by %s", first->file);
        return -1;
    }
    p->min_host_minor = desc.min_host_abi_minor;
    if (desc.min_host_abi_minor > DRAY_ABI_MINOR) {
        plugin_refuse(
            p,
            "needs host ABI %d.%u or newer; this host supports ABI %d.%d; "
            "upgrade dray, or rebuild the plugin against SDK ABI %d.%d",
            DRAY_ABI_MAJOR, (unsigned)desc.min_host_abi_minor, DRAY_ABI_MAJOR,
            DRAY_ABI_MINOR, DRAY_ABI_MAJOR, DRAY_ABI_MINOR);
        return -1;
    }
    if (desc.build_sig == NULL)
        return plugin_refuse_signature(p, "(none)");
    if (strcmp(desc.build_sig, DRAY_BUILD_SIGNATURE) != 0)
        return plugin_refuse_signature(p, desc.build_sig);
    if (plugin_check_vtable(p, desc.vtable) != 0 ||
        plugin_check_dialect(p, desc.dialect) != 0 ||
        plugin_copy_options(p, &desc) != 0)
        return -1;
    return 0;
}

/*
 * Files whose on_load ran in this process, so that loading a file in a
 * second plugin set runs it once, and on_unload runs when the last set
 * that uses the file lets go.
 */
struct loaded_file {
    char *path;
    int users;
    void (*on_unload)(void);
};
static struct loaded_file *loaded_files;
static size_t n_loaded_files;

static struct loaded_file *find_loaded(const char *path)
{
    for (size_t i = 0; i < n_loaded_files; i++)
        if (strcmp(loaded_files[i].path, path) == 0)
            return &loaded_files[i];
    return NULL;
}

static void run_on_load(struct plugin *p)
{
    struct loaded_file *lf = find_loaded(p->file);
    struct dray_error err;
    dray_status st;
    char *msg;

    if (lf != NULL && lf->users > 0) {
        lf->users++;
        return;
    }
    if (p->vt.on_load != NULL) {
        error_init(&err);
        st = p->vt.on_load(host_api(), &err);
        if (st != DRAY_OK) {
            if (err.cls == DRAY_OK)
                err.cls = st;
            msg = error_oneline(&err);
            plugin_refuse(p, "on_load failed: %s", msg);
            free(msg);
            error_release(&err);
            return;
        }
        error_release(&err);
    }
    if (lf == NULL) {
        loaded_files = xrealloc(loaded_files,
                                (n_loaded_files + 1) * sizeof(*loaded_files));
        lf = &loaded_files[n_loaded_files++];
        lf->path = xstrdup(p->file);
    }
    lf->users = 1;
    lf->on_unload = p->vt.on_unload;
}

static void release_loaded(const char *path)
{
    struct loaded_file *lf = find_loaded(path);

    if (lf == NULL || lf->users == 0)
        return;
    if (--lf->users == 0 && lf->on_unload)
        lf->on_unload();
}

static int already_loaded(const struct plugin_set *set, const char *real)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->items[i].file, real) == 0)
            return 1;
    return 0;
}

/* Loading is one file at a time in a process: entry points and on_load
   run single-threaded, as the ABI promises. */
static pthread_mutex_t discover_lock = PTHREAD_MUTEX_INITIALIZER;

static void forget_plugin_memory(struct plugin *p)
{
    /* A refused file is unmapped: nothing may point into it. */
    memset(&p->vt, 0, sizeof(p->vt));
    memset(&p->dialect, 0, sizeof(p->dialect));
    close_handle(p);
}

const struct plugin *plugins_load_file(struct plugin_set *set, const char *path)
{
    char *real = realpath(path, NULL);
    struct plugin *p;

    pthread_mutex_lock(&discover_lock);
    if (real != NULL && already_loaded(set, real)) {
        free(real);
        pthread_mutex_unlock(&discover_lock);
        return NULL;
    }
    p = append_plugin(set, real ? real : path);
    free(real);
    if (open_library(p) == 0) {
        if (inspect(set, p) == 0)
            run_on_load(p);
        if (p->status != PLUGIN_OK)
            forget_plugin_memory(p);
        else
            log_debug("loaded plugin '%s' %s from %s", p->name,
                      p->version ? p->version : "", p->file);
    } else if (p->claimed == NULL) {
        claim_stem(p);
    }
    pthread_mutex_unlock(&discover_lock);
    return p;
}

static pthread_once_t ltdl_once = PTHREAD_ONCE_INIT;
static int ltdl_ready;

static void init_ltdl(void)
{
    /* Initialised once per process and never torn down: plugins that start
       threads or register atexit handlers must stay mapped. */
    ltdl_ready = lt_dlinit() == 0;
}

void plugins_discover(struct plugin_set *set)
{
    pthread_once(&ltdl_once, init_ltdl);
    if (!ltdl_ready) {
        log_error("cannot initialise libltdl; no plugin can be loaded");
        return;
    }
    for (size_t i = 0; i < set->n_dirs; i++)
        plugin_load_dir(set, set->dirs[i]);
}

const struct plugin *plugins_find(const struct plugin_set *set,
                                  const char *name)
{
    return find_named(set, name, set->n);
}

size_t plugin_cap_names(uint64_t caps, const char **names, size_t max)
{
    static const struct {
        uint64_t bit;
        const char *name;
    } table[] = {
        {DRAY_CAP_IDEMPOTENT_LOADS, "idempotent_loads"},
        {DRAY_CAP_REJECT_ROWS, "reject_rows"},
        {DRAY_CAP_READBACK, "readback"},
        {DRAY_CAP_NAMESPACES, "namespaces"},
        {DRAY_CAP_ACTIVATE_VERSION, "activate_version"},
        {DRAY_CAP_CONCURRENT_STREAMS, "concurrent_streams"},
        {DRAY_CAP_CHECK, "check"},
    };
    size_t n = 0;

    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]) && n < max; i++)
        if (caps & table[i].bit)
            names[n++] = table[i].name;
    return n;
}

static void free_plugin(struct plugin *p)
{
    /* A loaded plugin stays mapped until the process ends: libraries with
       threads or atexit handlers crash when unmapped early. */
    if (p->status == PLUGIN_OK)
        release_loaded(p->file);
    else
        close_handle(p);
    for (size_t i = 0; i < p->n_options; i++) {
        struct opt_spec *s = &p->options[i];
        free(s->name);
        free(s->default_value);
        free(s->description);
        for (size_t k = 0; k < s->n_enum_values; k++)
            free(s->enum_values[k]);
        free(s->enum_values);
    }
    free(p->options);
    free(p->file);
    free(p->name);
    free(p->claimed);
    free(p->version);
    free(p->vendor);
    free(p->license);
    free(p->description);
    free(p->type_map);
    free(p->reason);
}

void plugins_release(struct plugin_set *set)
{
    /* Unload in reverse order of loading. */
    for (size_t i = set->n; i-- > 0;)
        free_plugin(&set->items[i]);
    free(set->items);
    for (size_t i = 0; i < set->n_dirs; i++)
        free(set->dirs[i]);
    free(set->dirs);
    memset(set, 0, sizeof(*set));
}
