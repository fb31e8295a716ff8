/*
 * fuzz_schema.c - libFuzzer target for dray_schema_parse.
 *
 * Any bytes: no crash, no leak, a one-line reason on refusal. A schema
 * that parses must be a well-formed tree: pre-order, depths and links
 * consistent, every named node found again by dray_schema_child, keys
 * flagged on top-level properties only. The first input byte picks the
 * key properties, the rest is the schema text.
 */
#include "dray/dray_schema.h"
#include "dray/dray_types.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, int32_t node)
{
    fprintf(stderr, "fuzz_schema: node %d: %s\n", (int)node, what);
    abort();
}

/* Links of node i: children follow it and point back to it. */
static void check_links(const struct dray_schema *s, int32_t i)
{
    const struct dray_schema_field *f = &s->nodes[i];
    int32_t c;

    for (c = f->first_child; c >= 0; c = s->nodes[c].next_sibling) {
        if (c <= i || c >= s->n_nodes || s->nodes[c].parent != i)
            die("bad child link", i);
        if (s->nodes[c].flags & DRAY_NODE_ITEMS)
            die("items node among the properties", i);
        if (dray_schema_child(s, i, s->nodes[c].name,
                              strlen(s->nodes[c].name)) != c)
            die("child not found by name", c);
    }
    if (f->items >= 0 && (f->items <= i || f->items >= s->n_nodes ||
                          s->nodes[f->items].parent != i ||
                          !(s->nodes[f->items].flags & DRAY_NODE_ITEMS) ||
                          !(f->json_types & DRAY_JT_ARRAY)))
        die("bad items link", i);
}

static void check_tree(const struct dray_schema *s)
{
    struct dray_schema_node view;

    if (s->n_nodes < 1 || s->n_nodes > DRAY_SCHEMA_MAX_NODES ||
        s->nodes[0].parent != -1 || s->nodes[0].depth != 0 ||
        !(s->nodes[0].json_types & DRAY_JT_OBJECT))
        die("bad root", 0);
    for (int32_t i = 0; i < s->n_nodes; i++) {
        const struct dray_schema_field *f = &s->nodes[i];
        if (i > 0 && (f->parent < 0 || f->parent >= i ||
                      f->depth != s->nodes[f->parent].depth + 1))
            die("not in pre-order", i);
        if (f->depth > DRAY_SCHEMA_MAX_DEPTH || f->json_types == 0 ||
            f->json_types > 0x7f)
            die("bad depth or types", i);
        if ((f->scale >= 0) != (f->multiple_of != NULL))
            die("scale without multipleOf", i);
        if ((f->flags & DRAY_NODE_KEY) && f->parent != 0)
            die("a key below the top level", i);
        check_links(s, i);
        view.hdr = (struct dray_hdr)DRAY_HDR_INIT(struct dray_schema_node);
        dray_schema_view(s, i, &view);
        if (view.parent != f->parent || view.name != f->name)
            die("view differs", i);
        (void)dray_types_declared(s, i, (int)(i & 1));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keys[] = {"id", "a", ""};
    struct dray_schema s;
    char err[256];
    size_t n_keys;
    int rc;

    if (size == 0)
        return 0;
    n_keys = data[0] % 4;
    rc = dray_schema_parse(&s, (const char *)data + 1, size - 1, keys, n_keys,
                           err, sizeof(err));
    if (rc == 0) {
        check_tree(&s);
        if (s.n_keys != n_keys)
            die("keys not kept", 0);
    } else if (rc != -1 || err[0] == '\0' || strchr(err, '\n') != NULL) {
        die("bad refusal", -1);
    }
    dray_schema_release(&s);
    return 0;
}
