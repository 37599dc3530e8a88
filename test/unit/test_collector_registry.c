/* registry: save/load round trip, atomic write leaves no temp file, a
 * corrupt file is moved aside (and reported with its path), absent file
 * gives an empty registry, pruning. Also file identity: uids, fingerprints,
 * inode reuse with a different first bytes is a stranger. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/file_id.h"
#include "collector/registry.h"

static char dir[256];
static char err[1024];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/lf-test-registry.XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int count_files(const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(d);
    return n;
}

static void test_roundtrip(void **state)
{
    registry *r;
    assert_int_equal(registry_new(&r, dir, err, sizeof err), 0);
    assert_int_equal(registry_load(r, err, sizeof err), 0); /* absent: empty */
    assert_int_equal(r->n, 0);
    char uid[FID_UID_LEN + 1];
    assert_int_equal(fid_new_uid(uid, err, sizeof err), 0);
    reg_entry *e = registry_add(r, uid, 2049, 123456789012ULL, "/var/log/a \"b\".log", "src");
    e->offset = 9007199254740993ULL; /* above 2^53: must survive */
    e->fp = 0xfedcba9876543210ULL;
    e->fp_len = 1024;
    char uid2[FID_UID_LEN + 1];
    assert_int_equal(fid_new_uid(uid2, err, sizeof err), 0);
    assert_string_not_equal(uid, uid2);
    registry_add(r, uid2, 1, 2, "/x", "s2")->offset = 7;
    assert_int_equal(registry_save(r, err, sizeof err), 0);
    assert_false(r->dirty);
    assert_int_equal(count_files("registry.json.tmp"), 0);
    registry_free(r);

    assert_int_equal(registry_new(&r, dir, err, sizeof err), 0);
    assert_int_equal(registry_load(r, err, sizeof err), 0);
    assert_int_equal(r->n, 2);
    e = registry_find_ino(r, 2049, 123456789012ULL);
    assert_non_null(e);
    assert_string_equal(e->uid, uid);
    assert_string_equal(e->path, "/var/log/a \"b\".log");
    assert_string_equal(e->source, "src");
    assert_true(e->offset == 9007199254740993ULL);
    assert_true(e->fp == 0xfedcba9876543210ULL);
    assert_int_equal(e->fp_len, 1024);
    assert_ptr_equal(registry_find_uid(r, uid2), registry_find_ino(r, 1, 2));
    registry_remove(r, e);
    assert_int_equal(r->n, 1);
    assert_null(registry_find_uid(r, uid));
    registry_free(r);
}

static void corrupt_case(const char *text, const char *expect)
{
    char path[400];
    registry *r;
    snprintf(path, sizeof path, "%s/registry.json", dir);
    write_file(path, text);
    assert_int_equal(registry_new(&r, dir, err, sizeof err), 0);
    assert_int_equal(registry_load(r, err, sizeof err), 1);
    assert_non_null(strstr(err, path));       /* names the file */
    assert_non_null(strstr(err, "corrupt-")); /* and where it went */
    assert_non_null(strstr(err, expect));
    assert_int_equal(r->n, 0);
    assert_int_equal(access(path, F_OK), -1); /* moved, not overwritten */
    assert_true(count_files("registry.json.corrupt-") >= 1);
    registry_free(r);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -f %s/registry.json.corrupt-*", dir);
    assert_int_equal(system(cmd), 0);
}

/* registry_peek (--status): absent is 1, corrupt is -1 naming the path and
 * the file stays where it is; a good file loads. */
static void test_peek_read_only(void **state)
{
    char path[400];
    registry *r;
    snprintf(path, sizeof path, "%s/registry.json", dir);
    assert_int_equal(registry_new(&r, dir, err, sizeof err), 0);
    assert_int_equal(registry_peek(r, err, sizeof err), 1);
    write_file(path, "{\"version\":1,\"files\":[");
    assert_int_equal(registry_peek(r, err, sizeof err), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "syntax"));
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(count_files("registry.json.corrupt-"), 0);
    write_file(path, "{\"version\":1,\"files\":[{\"uid\":\"0123456789abcdef0123456789abcdef\","
                     "\"path\":\"/a\",\"source\":\"s\",\"fingerprint\":\"0\",\"dev\":1,"
                     "\"inode\":2,\"offset\":3,\"fingerprint_len\":0}]}");
    assert_int_equal(registry_peek(r, err, sizeof err), 0);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->head->offset, 3);
    registry_free(r);
}

static void test_corrupt(void **state)
{
    corrupt_case("{\"version\":1,\"files\":[{\"uid\":", "syntax");
    corrupt_case("", "syntax");
    corrupt_case("{\"version\":2,\"files\":[]}", "version");
    corrupt_case("{\"version\":1,\"files\":{}}", "files");
    corrupt_case("{\"version\":1,\"files\":[{\"uid\":\"zz\",\"path\":\"/a\",\"source\":\"s\","
                 "\"fingerprint\":\"0\",\"dev\":1,\"inode\":2,\"offset\":3,\"fingerprint_len\":0}]}",
                 "uid");
    corrupt_case("{\"version\":1,\"files\":[{\"uid\":\"0123456789abcdef0123456789abcdef\",\"path\":\"/a\","
                 "\"source\":\"s\",\"fingerprint\":\"0\",\"dev\":1,\"inode\":2,\"offset\":-3,"
                 "\"fingerprint_len\":0}]}", "offset");
}

static void test_save_error_names_path(void **state)
{
    registry *r;
    char sub[300];
    snprintf(sub, sizeof sub, "%s/missing-dir", dir);
    assert_int_equal(registry_new(&r, sub, err, sizeof err), 0);
    assert_int_equal(registry_save(r, err, sizeof err), -1);
    assert_non_null(strstr(err, sub));
    registry_free(r);
}

static void test_prune(void **state)
{
    registry *r;
    int dummy;
    assert_int_equal(registry_new(&r, dir, err, sizeof err), 0);
    reg_entry *a = registry_add(r, "0123456789abcdef0123456789abcde0", 1, 1, "/a", "s");
    reg_entry *b = registry_add(r, "0123456789abcdef0123456789abcde1", 1, 2, "/b", "s");
    reg_entry *c = registry_add(r, "0123456789abcdef0123456789abcde2", 1, 3, "/c", "s");
    a->updated = 10;
    b->updated = 10;
    b->user = &dummy;   /* in use: never pruned */
    c->updated = 1000;
    assert_int_equal(registry_prune(r, 500), 1);
    assert_null(registry_find_ino(r, 1, 1));
    assert_non_null(registry_find_ino(r, 1, 2));
    assert_non_null(registry_find_ino(r, 1, 3));
    registry_free(r);
}

static void test_fingerprint_identity(void **state)
{
    char path[400];
    snprintf(path, sizeof path, "%s/f.log", dir);
    write_file(path, "first file line 1\nline 2\n");
    int fd = open(path, O_RDONLY);
    uint64_t fp;
    uint32_t len;
    assert_int_equal(fid_fingerprint(fd, &fp, &len), 0);
    assert_int_equal(len, 25);
    assert_int_equal(fid_matches(fd, fp, len), 1);
    close(fd);
    /* Appending keeps the identity. */
    FILE *f = fopen(path, "a");
    fputs("line 3\n", f);
    fclose(f);
    fd = open(path, O_RDONLY);
    assert_int_equal(fid_matches(fd, fp, len), 1);
    close(fd);
    /* Same inode, other first bytes (inode reuse, or rewritten): a stranger. */
    write_file(path, "second file, other text\n");
    fd = open(path, O_RDONLY);
    assert_int_equal(fid_matches(fd, fp, len), 0);
    close(fd);
    /* Shorter than the fingerprinted prefix: a stranger (truncated). */
    write_file(path, "first");
    fd = open(path, O_RDONLY);
    assert_int_equal(fid_matches(fd, fp, len), 0);
    close(fd);
    /* A long file fingerprints only its first FID_FP_MAX bytes. */
    f = fopen(path, "w");
    for (int i = 0; i < 1000; i++)
        fprintf(f, "line %d\n", i);
    fclose(f);
    fd = open(path, O_RDONLY);
    assert_int_equal(fid_fingerprint(fd, &fp, &len), 0);
    assert_int_equal(len, FID_FP_MAX);
    close(fd);
}

static void test_inode_reuse_detected(void **state)
{
    /* Delete a file, create another: if the kernel hands out the same inode
     * (common on ext4/tmpfs), dev+ino match but the fingerprint does not. */
    char a[400], b[400];
    snprintf(a, sizeof a, "%s/old.log", dir);
    snprintf(b, sizeof b, "%s/new.log", dir);
    write_file(a, "old content that was shipped\n");
    struct stat st1, st2;
    stat(a, &st1);
    int fd = open(a, O_RDONLY);
    uint64_t fp;
    uint32_t len;
    fid_fingerprint(fd, &fp, &len);
    close(fd);
    unlink(a);
    write_file(b, "brand new file with other content\n");
    stat(b, &st2);
    fd = open(b, O_RDONLY);
    assert_int_equal(fid_matches(fd, fp, len), 0);
    close(fd);
    if (st1.st_ino != st2.st_ino)
        print_message("# inode not reused here; fingerprint still differs\n");
}

static void test_many_lookups(void **state)
{
    registry *r;
    char uid[FID_UID_LEN + 1];
    assert_int_equal(registry_new(&r, dir, err, sizeof err), 0);
    for (uint64_t i = 0; i < 5000; i++) {
        snprintf(uid, sizeof uid, "%032llx", (unsigned long long)i);
        assert_non_null(registry_add(r, uid, 2049, 1000 + i * 7, "/p", "s"));
    }
    for (uint64_t i = 0; i < 5000; i += 2)
        registry_remove(r, registry_find_ino(r, 2049, 1000 + i * 7));
    assert_int_equal(r->n, 2500);
    for (uint64_t i = 0; i < 5000; i++) {
        reg_entry *e = registry_find_ino(r, 2049, 1000 + i * 7);
        if (i % 2)
            assert_true(e && e->ino == 1000 + i * 7);
        else
            assert_null(e);
    }
    assert_null(registry_find_ino(r, 2050, 1007));
    assert_int_equal(registry_prune(r, INT64_MAX), 2500);
    assert_null(registry_find_ino(r, 2049, 1007));
    registry_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peek_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_error_names_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_lookups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fingerprint_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inode_reuse_detected, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
