/* source_json: a source declared as an etcd JSON value (DESIGN.md §2), and
 * the helpers on source_conf shared with the INI-declared sources.
 *
 * Strict on purpose: a value is operator input arriving at run time on every
 * node, so an unknown field (a typo such as "topics") or a wrong type is an
 * error naming the field rather than something silently ignored. */
#include "collector/source.h"
#include "collector/path_allowed.h"
#include <cjson/cJSON.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Defaults for fields a value may omit; the same as an INI [source]. */
#define DEF_START               "end"
#define DEF_FORMAT              "json"
#define DEF_MULTILINE_MAX_LINES 500
#define DEF_MULTILINE_TIMEOUT   2000
#define MAX_MULTILINE_LINES     100000
#define MAX_MULTILINE_TIMEOUT   3600000

static void list_free(cfg_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i]);
        l->v[i] = NULL;
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static int list_push(cfg_list *l, const char *s)
{
    char *d = strdup(s);
    char **nv = d ? realloc(l->v, (l->n + 1) * sizeof *nv) : NULL;
    if (!nv) {
        free(d);
        return -1;
    }
    l->v = nv;
    l->v[l->n++] = d;
    return 0;
}

static int list_copy(cfg_list *dst, const cfg_list *src)
{
    dst->v = NULL;
    dst->n = 0;
    for (size_t i = 0; i < src->n; i++)
        if (list_push(dst, src->v[i]) != 0) {
            list_free(dst);
            return -1;
        }
    return 0;
}

static bool list_equal(const cfg_list *a, const cfg_list *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            return false;
    return true;
}

static bool str_equal(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static int dup_str(char **dst, const char *src)
{
    *dst = NULL;
    if (!src)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : -1;
}

void source_conf_free(source_conf *sc)
{
    if (!sc)
        return;
    free(sc->name);
    sc->name = NULL;
    list_free(&sc->paths);
    list_free(&sc->exclude);
    free(sc->topic);
    sc->topic = NULL;
    free(sc->start);
    sc->start = NULL;
    list_free(&sc->fields);
    free(sc->format);
    sc->format = NULL;
    free(sc->multiline_start);
    sc->multiline_start = NULL;
    free(sc->origin);
    sc->origin = NULL;
}

int source_conf_copy(source_conf *dst, const source_conf *src)
{
    memset(dst, 0, sizeof *dst);
    dst->must_exist = src->must_exist;
    dst->multiline_max_lines = src->multiline_max_lines;
    dst->multiline_timeout_ms = src->multiline_timeout_ms;
    if (dup_str(&dst->name, src->name) || list_copy(&dst->paths, &src->paths) ||
        list_copy(&dst->exclude, &src->exclude) || dup_str(&dst->topic, src->topic) ||
        dup_str(&dst->start, src->start) || list_copy(&dst->fields, &src->fields) ||
        dup_str(&dst->format, src->format) ||
        dup_str(&dst->multiline_start, src->multiline_start) ||
        dup_str(&dst->origin, src->origin)) {
        source_conf_free(dst);
        return -1;
    }
    return 0;
}

/* Equal in everything that changes what is collected; `origin` is where it
 * came from, not what it does, and is ignored. */
bool source_conf_equal(const source_conf *a, const source_conf *b)
{
    return str_equal(a->name, b->name) && list_equal(&a->paths, &b->paths) &&
           list_equal(&a->exclude, &b->exclude) && str_equal(a->topic, b->topic) &&
           str_equal(a->start, b->start) && a->must_exist == b->must_exist &&
           list_equal(&a->fields, &b->fields) && str_equal(a->format, b->format) &&
           str_equal(a->multiline_start, b->multiline_start) &&
           a->multiline_max_lines == b->multiline_max_lines &&
           a->multiline_timeout_ms == b->multiline_timeout_ms;
}

/* ---- parsing ---- */

static const char *type_name(const cJSON *j)
{
    if (cJSON_IsString(j)) return "a string";
    if (cJSON_IsNumber(j)) return "a number";
    if (cJSON_IsBool(j))   return "a boolean";
    if (cJSON_IsNull(j))   return "null";
    if (cJSON_IsArray(j))  return "an array";
    if (cJSON_IsObject(j)) return "an object";
    return "invalid";
}

static int want_string(const cJSON *j, const char *field, char *err, size_t errlen)
{
    if (cJSON_IsString(j) && j->valuestring)
        return 0;
    snprintf(err, errlen, "field \"%s\": expected a string, got %s", field, type_name(j));
    return -1;
}

static int parse_string_list(cfg_list *out, const cJSON *j, const char *field,
                             bool nonempty, char *err, size_t errlen)
{
    if (!cJSON_IsArray(j)) {
        snprintf(err, errlen, "field \"%s\": expected an array of strings, got %s",
                 field, type_name(j));
        return -1;
    }
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, j) {
        if (!cJSON_IsString(it) || !it->valuestring) {
            snprintf(err, errlen, "field \"%s\"[%d]: expected a string, got %s",
                     field, i, type_name(it));
            return -1;
        }
        if (it->valuestring[0] == '\0') {
            snprintf(err, errlen, "field \"%s\"[%d]: empty string", field, i);
            return -1;
        }
        if (list_push(out, it->valuestring) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        i++;
    }
    if (nonempty && out->n == 0) {
        snprintf(err, errlen, "field \"%s\": must not be empty", field);
        return -1;
    }
    return 0;
}

static int parse_int(int64_t *out, const cJSON *j, const char *field, int64_t min,
                     int64_t max, char *err, size_t errlen)
{
    if (!cJSON_IsNumber(j)) {
        snprintf(err, errlen, "field \"%s\": expected an integer, got %s", field, type_name(j));
        return -1;
    }
    double d = j->valuedouble;
    if (!isfinite(d) || d != floor(d) || d < (double)min || d > (double)max) {
        snprintf(err, errlen, "field \"%s\": expected an integer in [%lld, %lld], got %g",
                 field, (long long)min, (long long)max, d);
        return -1;
    }
    *out = (int64_t)d;
    return 0;
}

static int parse_fields(cfg_list *out, const cJSON *j, char *err, size_t errlen)
{
    if (!cJSON_IsObject(j)) {
        snprintf(err, errlen, "field \"fields\": expected an object of strings, got %s",
                 type_name(j));
        return -1;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, j) {
        const char *k = it->string;
        if (!k || !*k || strchr(k, '=')) {
            snprintf(err, errlen, "field \"fields\": key \"%s\" must be non-empty without '='",
                     k ? k : "");
            return -1;
        }
        if (!cJSON_IsString(it) || !it->valuestring) {
            snprintf(err, errlen, "field \"fields.%s\": expected a string, got %s", k,
                     type_name(it));
            return -1;
        }
        size_t n = strlen(k) + 1 + strlen(it->valuestring) + 1;
        char *kv = malloc(n);
        if (!kv) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        snprintf(kv, n, "%s=%s", k, it->valuestring);
        int rc = list_push(out, kv);
        free(kv);
        if (rc != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

static int check_regex(const char *re, char *err, size_t errlen)
{
    int ec;
    PCRE2_SIZE off;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_UTF,
                                     &ec, &off, NULL);
    if (code) {
        pcre2_code_free(code);
        return 0;
    }
    PCRE2_UCHAR msg[160];
    pcre2_get_error_message(ec, msg, sizeof msg);
    snprintf(err, errlen, "field \"multiline.start\": bad regex at offset %zu: %s",
             (size_t)off, (const char *)msg);
    return -1;
}

static int parse_multiline(source_conf *sc, const cJSON *j, char *err, size_t errlen)
{
    if (!cJSON_IsObject(j)) {
        snprintf(err, errlen, "field \"multiline\": expected an object, got %s", type_name(j));
        return -1;
    }
    bool have_start = false;
    const cJSON *it;
    cJSON_ArrayForEach(it, j) {
        const char *k = it->string ? it->string : "";
        if (strcmp(k, "start") == 0) {
            if (want_string(it, "multiline.start", err, errlen) != 0)
                return -1;
            if (!it->valuestring[0]) {
                snprintf(err, errlen, "field \"multiline.start\": must not be empty");
                return -1;
            }
            if (check_regex(it->valuestring, err, errlen) != 0)
                return -1;
            free(sc->multiline_start);
            sc->multiline_start = strdup(it->valuestring);
            if (!sc->multiline_start) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            have_start = true;
        } else if (strcmp(k, "max_lines") == 0) {
            if (parse_int(&sc->multiline_max_lines, it, "multiline.max_lines", 1,
                          MAX_MULTILINE_LINES, err, errlen) != 0)
                return -1;
        } else if (strcmp(k, "timeout_ms") == 0) {
            if (parse_int(&sc->multiline_timeout_ms, it, "multiline.timeout_ms", 1,
                          MAX_MULTILINE_TIMEOUT, err, errlen) != 0)
                return -1;
        } else {
            snprintf(err, errlen, "unknown field \"multiline.%s\"", k);
            return -1;
        }
    }
    if (!have_start) {
        snprintf(err, errlen, "field \"multiline.start\": missing");
        return -1;
    }
    return 0;
}

static int parse_enum(char **out, const cJSON *j, const char *field, const char *a,
                      const char *b, char *err, size_t errlen)
{
    if (want_string(j, field, err, errlen) != 0)
        return -1;
    if (strcmp(j->valuestring, a) != 0 && strcmp(j->valuestring, b) != 0) {
        snprintf(err, errlen, "field \"%s\": expected \"%s\" or \"%s\", got \"%.64s\"",
                 field, a, b, j->valuestring);
        return -1;
    }
    free(*out);
    *out = strdup(j->valuestring);
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int parse_obj(source_conf *sc, const cJSON *root, char *err, size_t errlen)
{
    bool have_paths = false;
    const cJSON *it;
    cJSON_ArrayForEach(it, root) {
        const char *k = it->string ? it->string : "";
        int rc;
        if (strcmp(k, "paths") == 0) {
            rc = parse_string_list(&sc->paths, it, "paths", true, err, errlen);
            for (size_t i = 0; rc == 0 && i < sc->paths.n; i++)
                if (sc->paths.v[i][0] != '/') {
                    snprintf(err, errlen, "field \"paths\"[%zu]: \"%.200s\" is not absolute",
                             i, sc->paths.v[i]);
                    rc = -1;
                }
            have_paths = true;
        } else if (strcmp(k, "exclude") == 0) {
            rc = parse_string_list(&sc->exclude, it, "exclude", false, err, errlen);
        } else if (strcmp(k, "topic") == 0) {
            rc = want_string(it, "topic", err, errlen);
            if (rc == 0 && !it->valuestring[0]) {
                snprintf(err, errlen, "field \"topic\": must not be empty");
                rc = -1;
            }
            if (rc == 0 && !(sc->topic = strdup(it->valuestring))) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
            }
        } else if (strcmp(k, "start") == 0) {
            rc = parse_enum(&sc->start, it, "start", "beginning", "end", err, errlen);
        } else if (strcmp(k, "format") == 0) {
            rc = parse_enum(&sc->format, it, "format", "json", "raw", err, errlen);
        } else if (strcmp(k, "must_exist") == 0) {
            rc = 0;
            if (!cJSON_IsBool(it)) {
                snprintf(err, errlen, "field \"must_exist\": expected a boolean, got %s",
                         type_name(it));
                rc = -1;
            } else {
                sc->must_exist = cJSON_IsTrue(it);
            }
        } else if (strcmp(k, "fields") == 0) {
            rc = parse_fields(&sc->fields, it, err, errlen);
        } else if (strcmp(k, "multiline") == 0) {
            rc = parse_multiline(sc, it, err, errlen);
        } else {
            snprintf(err, errlen, "unknown field \"%.64s\"", k);
            rc = -1;
        }
        if (rc != 0)
            return -1;
    }
    if (!have_paths) {
        snprintf(err, errlen, "field \"paths\": missing");
        return -1;
    }
    if (!sc->topic) {
        snprintf(err, errlen, "field \"topic\": missing");
        return -1;
    }
    return 0;
}

/* Duplicate keys in one object are ambiguous (cJSON keeps both and the
 * first would win silently): refuse them. */
static int check_duplicates(const cJSON *obj, char *err, size_t errlen)
{
    for (const cJSON *a = obj->child; a; a = a->next) {
        for (const cJSON *b = a->next; b; b = b->next)
            if (a->string && b->string && strcmp(a->string, b->string) == 0) {
                snprintf(err, errlen, "field \"%.64s\" appears twice", a->string);
                return -1;
            }
        if (cJSON_IsObject(a) && check_duplicates(a, err, errlen) != 0)
            return -1;
    }
    return 0;
}

int source_conf_from_json(source_conf *out, const char *name, const char *origin,
                          const char *json, size_t len, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    cJSON *root = NULL;
    int rc = -1;
    out->multiline_max_lines = DEF_MULTILINE_MAX_LINES;
    out->multiline_timeout_ms = DEF_MULTILINE_TIMEOUT;
    if (!name || !*name) {
        snprintf(err, errlen, "empty source name");
        goto err;
    }
    if (dup_str(&out->name, name) || dup_str(&out->origin, origin)) {
        snprintf(err, errlen, "out of memory");
        goto err;
    }
    const char *end = NULL;
    root = cJSON_ParseWithLengthOpts(json, len, &end, false);
    if (!root) {
        size_t at = end && end >= json ? (size_t)(end - json) : 0;
        snprintf(err, errlen, "invalid JSON near byte %zu", at);
        rc = -2;
        goto err;
    }
    /* No NUL byte inside the value: cJSON takes one for whitespace between
     * tokens, or for a byte of a string (which its C string then ends), but
     * etcd_sources keeps and caches a good value as a C string, cut there:
     * the cached value would not parse again. */
    const char *nul = memchr(json, '\0', (size_t)(end - json));
    if (nul) {
        snprintf(err, errlen, "invalid JSON: NUL byte at byte %zu", (size_t)(nul - json));
        rc = -2;
        goto err;
    }
    /* Nothing but whitespace may follow the object. */
    for (const char *p = end; p && p < json + len; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != '\0') {
            snprintf(err, errlen, "invalid JSON: trailing data at byte %zu",
                     (size_t)(p - json));
            rc = -2;
            goto err;
        }
    if (!cJSON_IsObject(root)) {
        snprintf(err, errlen, "expected a JSON object, got %s", type_name(root));
        rc = -2;
        goto err;
    }
    if (check_duplicates(root, err, errlen) != 0 || parse_obj(out, root, err, errlen) != 0)
        goto err;
    if ((!out->start && dup_str(&out->start, DEF_START)) ||
        (!out->format && dup_str(&out->format, DEF_FORMAT))) {
        snprintf(err, errlen, "out of memory");
        goto err;
    }
    cJSON_Delete(root);
    return 0;
err:
    cJSON_Delete(root);
    source_conf_free(out);
    return rc;
}

int source_conf_check_allowed(const source_conf *sc, const cfg_list *allowed,
                              char *err, size_t errlen)
{
    for (size_t i = 0; i < sc->paths.n; i++)
        if (path_glob_allowed(sc->paths.v[i], allowed, err, errlen) != 0)
            return -1;
    return 0;
}
