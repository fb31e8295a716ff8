/*
 * Checks of a plugin's descriptor contents: build signature, vtable,
 * dialect and option table. Everything kept is copied into host storage,
 * reading the plugin's structs only up to the sizes they declare.
 */
#include "plugin_checks.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "strbuf.h"

/* Limits on what a descriptor may declare (docs/ABI.md). */
#define MAX_OPTIONS 1024
#define MAX_OPTION_SIZE 4096

void plugin_refuse(struct plugin *p, const char *fmt, ...)
{
    struct strbuf sb = STRBUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    strbuf_vaddf(&sb, fmt, ap);
    va_end(ap);
    free(p->reason);
    p->reason = strbuf_detach(&sb);
    p->status = PLUGIN_REFUSED;
}

int plugin_require_size(struct plugin *p, const char *what, uint32_t size,
                        uint32_t least)
{
    if (size >= least)
        return 0;
    plugin_refuse(p,
                  "its %s is %u bytes, smaller than ABI 1.0's %u; rebuild it "
                  "against the dray SDK",
                  what, (unsigned)size, (unsigned)least);
    return -1;
}

int plugin_valid_name(const char *s, size_t max)
{
    size_t n = 0;

    if (s == NULL || !(*s >= 'a' && *s <= 'z'))
        return 0;
    for (; *s; s++, n++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return n <= max;
}

/* Copies min(given, known) bytes of a plugin struct into zeroed storage. */
void plugin_copy_struct(void *dst, size_t dst_size, const void *src,
                        uint32_t src_size)
{
    memset(dst, 0, dst_size);
    memcpy(dst, src, src_size < dst_size ? src_size : dst_size);
}

int plugin_refuse_signature(struct plugin *p, const char *sig)
{
    static const char *const parts[] = {"ABI major", "pointer size",
                                        "byte order"};
    const char *mine = DRAY_BUILD_SIGNATURE;
    const char *a = sig, *b = mine;
    const char *what = "format";

    for (int i = 0; i < 3; i++) {
        size_t la = strcspn(a, ";"), lb = strcspn(b, ";");
        if (la != lb || strncmp(a, b, la) != 0) {
            what = parts[i];
            break;
        }
        a += la + (a[la] == ';');
        b += lb + (b[lb] == ';');
    }
    plugin_refuse(
        p,
        "was built for '%s' but this host is '%s' (%s differs); rebuild "
        "it for this platform",
        sig, mine, what);
    return -1;
}

int plugin_copy_options(struct plugin *p, const struct dray_plugin_desc *d)
{
    if (d->n_options == 0)
        return 0;
    /* Bounds before reading: a corrupt table must not crash the listing. */
    if (d->options == NULL || d->n_options > MAX_OPTIONS ||
        d->option_size < DRAY_OPTION_SIZE_1_0 ||
        d->option_size > MAX_OPTION_SIZE) {
        plugin_refuse(p,
                      "has an invalid option table (%u options of %u bytes; "
                      "ABI 1.0 allows up to %u options of %u to %u bytes); "
                      "rebuild it against the dray SDK",
                      (unsigned)d->n_options, (unsigned)d->option_size,
                      (unsigned)MAX_OPTIONS, (unsigned)DRAY_OPTION_SIZE_1_0,
                      (unsigned)MAX_OPTION_SIZE);
        return -1;
    }
    p->options = xcalloc(d->n_options, sizeof(*p->options));
    for (uint32_t i = 0; i < d->n_options; i++) {
        struct dray_option o;
        struct opt_spec *s = &p->options[p->n_options];
        const char *raw = (const char *)d->options + (size_t)i * d->option_size;

        plugin_copy_struct(&o, sizeof(o), raw, d->option_size);
        if (!plugin_valid_name(o.name, 63)) {
            plugin_refuse(
                p,
                "has an option with an invalid name '%s'; option names "
                "are [a-z][a-z0-9_]*",
                o.name ? o.name : "(null)");
            return -1;
        }
        for (size_t j = 0; j < p->n_options; j++)
            if (strcmp(p->options[j].name, o.name) == 0) {
                plugin_refuse(p, "declares option '%s' twice", o.name);
                return -1;
            }
        if (o.type < 0 || o.type >= DRAY_OPT_TYPE_COUNT_1_0) {
            plugin_refuse(p, "option '%s' has type %d, unknown to this host",
                          o.name, (int)o.type);
            return -1;
        }
        s->name = xstrdup(o.name);
        s->type = o.type;
        s->flags = o.flags;
        s->default_value = xstrdup_or_null(o.default_value);
        s->min = o.min;
        s->max = o.max;
        s->description = xstrdup_or_null(o.description);
        p->n_options++;
        if (o.type == DRAY_OPT_ENUM) {
            size_t n = 0;
            while (o.enum_values && o.enum_values[n])
                n++;
            if (n == 0) {
                plugin_refuse(p, "enum option '%s' lists no values", o.name);
                return -1;
            }
            s->enum_values = xcalloc(n, sizeof(char *));
            for (size_t k = 0; k < n; k++)
                s->enum_values[k] = xstrdup(o.enum_values[k]);
            s->n_enum_values = n;
        }
        if (s->default_value) {
            struct opt_value v = {0};
            struct strbuf why = STRBUF_INIT;
            if (opt_parse(s, s->default_value, &v, &why) != 0) {
                plugin_refuse(p, "the default of option '%s' is invalid: %s",
                              o.name, why.buf);
                strbuf_release(&why);
                return -1;
            }
            strbuf_release(&why);
        }
    }
    return 0;
}

int plugin_check_vtable(struct plugin *p, const struct dray_plugin_vtable *vt)
{
    static const struct {
        uint64_t cap;
        const char *cap_name;
        size_t offset;
        const char *callback;
    } needs[] = {
        {DRAY_CAP_READBACK, "readback",
         offsetof(struct dray_plugin_vtable, readback), "readback"},
        {DRAY_CAP_READBACK, "readback",
         offsetof(struct dray_plugin_vtable, list_tables), "list_tables"},
        {DRAY_CAP_NAMESPACES, "namespaces",
         offsetof(struct dray_plugin_vtable, namespace_create),
         "namespace_create"},
        {DRAY_CAP_NAMESPACES, "namespaces",
         offsetof(struct dray_plugin_vtable, namespace_drop), "namespace_drop"},
        {DRAY_CAP_CHECK, "check", offsetof(struct dray_plugin_vtable, check),
         "check"},
    };

    if (vt == NULL) {
        plugin_refuse(p, "has no vtable; set .vtable in its descriptor");
        return -1;
    }
    if (vt->hdr.abi_major != DRAY_ABI_MAJOR) {
        plugin_refuse(p,
                      "its vtable declares ABI %u; rebuild it against the "
                      "dray SDK for ABI %d",
                      (unsigned)vt->hdr.abi_major, DRAY_ABI_MAJOR);
        return -1;
    }
    if (plugin_require_size(p, "vtable", vt->hdr.struct_size,
                            DRAY_PLUGIN_VTABLE_SIZE_1_0) != 0)
        return -1;
    plugin_copy_struct(&p->vt, sizeof(p->vt), vt, vt->hdr.struct_size);
    if (p->vt.create == NULL || p->vt.destroy == NULL ||
        p->vt.load_batch == NULL) {
        plugin_refuse(p, "lacks the required callback '%s'",
                      p->vt.create == NULL    ? "create"
                      : p->vt.destroy == NULL ? "destroy"
                                              : "load_batch");
        return -1;
    }
    for (size_t i = 0; i < sizeof(needs) / sizeof(needs[0]); i++) {
        void *fn;
        if (!(p->caps & needs[i].cap))
            continue;
        memcpy(&fn, (const char *)&p->vt + needs[i].offset, sizeof(fn));
        if (fn == NULL) {
            plugin_refuse(p, "claims capability '%s' but has no '%s' callback",
                          needs[i].cap_name, needs[i].callback);
            return -1;
        }
    }
    return 0;
}

int plugin_check_dialect(struct plugin *p, const struct dray_dialect *d)
{
    uint32_t known =
        DRAY_MODE_BIT(DRAY_MODE_UPSERT) | DRAY_MODE_BIT(DRAY_MODE_APPEND);

    if (d == NULL) {
        plugin_refuse(p, "has no dialect; set .dialect in its descriptor");
        return -1;
    }
    if (d->hdr.abi_major != DRAY_ABI_MAJOR) {
        plugin_refuse(p,
                      "its dialect declares ABI %u; rebuild it against the "
                      "dray SDK for ABI %d",
                      (unsigned)d->hdr.abi_major, DRAY_ABI_MAJOR);
        return -1;
    }
    if (plugin_require_size(p, "dialect", d->hdr.struct_size,
                            DRAY_DIALECT_SIZE_1_0) != 0)
        return -1;
    plugin_copy_struct(&p->dialect, sizeof(p->dialect), d, d->hdr.struct_size);
    p->dialect.type_map = NULL; /* plugin memory; the SDK reads its own */
    /* A copy for listings: the conformance harness maps through it. */
    free(p->type_map);
    p->type_map = d->type_map ? plugin_dup_text(d->type_map, 64) : NULL;
    if (p->dialect.nesting < DRAY_NEST_FLATTEN ||
        p->dialect.nesting > DRAY_NEST_DOCUMENT ||
        p->dialect.split_rule < DRAY_SPLIT_RENAME ||
        p->dialect.split_rule > DRAY_SPLIT_KEEP ||
        p->dialect.ident_case < DRAY_CASE_PRESERVE ||
        p->dialect.ident_case > DRAY_CASE_UPPER ||
        p->dialect.ident_unit < DRAY_IDENT_BYTES ||
        p->dialect.ident_unit > DRAY_IDENT_CHARS ||
        p->dialect.max_record_bytes < 0) {
        plugin_refuse(p,
                      "has a dialect with a value this host does not know "
                      "(nesting %d, split rule %d, case %d, unit %d); "
                      "rebuild it against the dray SDK",
                      (int)p->dialect.nesting, (int)p->dialect.split_rule,
                      (int)p->dialect.ident_case, (int)p->dialect.ident_unit);
        return -1;
    }
    if ((p->dialect.modes & known) == 0) {
        plugin_refuse(p,
                      "supports no load mode; set upsert and/or append in its "
                      "dialect");
        return -1;
    }
    return 0;
}

static size_t utf8_char_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (s[0] >= 0xe0 && s[0] <= 0xef) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0))
            return 0; /* overlong, or a surrogate */
        return 3;
    }
    if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
            (s[3] & 0xc0) != 0x80)
            return 0;
        if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
            return 0;
        return 4;
    }
    return 0;
}

/* Plugin strings shown to people: valid UTF-8 without control characters,
   at most max bytes; anything else becomes '?'. */
char *plugin_dup_text(const char *s, size_t max)
{
    struct strbuf sb = STRBUF_INIT;
    const unsigned char *u = (const unsigned char *)s;

    if (s == NULL)
        return NULL;
    while (*u && sb.len < max) {
        size_t n = utf8_char_len(u);
        if (n == 0 || *u < 0x20 || *u == 0x7f) {
            strbuf_addch(&sb, '?');
            u++;
            continue;
        }
        strbuf_add(&sb, u, n);
        u += n;
    }
    return strbuf_detach(&sb);
}
