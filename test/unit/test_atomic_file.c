/* atomic_file: content replaced whole, mode kept, no temp file left,
 * failures named. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic_file.h"

static char dir[64];

static int setup(void **st)
{
    strcpy(dir, "/tmp/lf-test-atomic.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **st)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    return rmdir(dir);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[256];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int entries(void)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_replace(void **st)
{
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/state.json", dir);
    assert_int_equal(lf_file_replace(path, "first\n", 6, 0600, err, sizeof err), 0);
    assert_string_equal(slurp(path), "first\n");
    assert_int_equal(lf_file_replace(path, "second", 6, 0600, err, sizeof err), 0);
    assert_string_equal(slurp(path), "second");
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(entries(), 1); /* no temp file left behind */
}

static void test_failure_named(void **st)
{
    char path[128], err[256] = "";
    snprintf(path, sizeof path, "%s/missing-dir/state.json", dir);
    assert_int_equal(lf_file_replace(path, "x", 1, 0600, err, sizeof err), -1);
    assert_non_null(strstr(err, "missing-dir/state.json.tmp."));
    assert_non_null(strstr(err, "No such file or directory"));
    /* a directory in the way of the rename: the temp file is cleaned up */
    snprintf(path, sizeof path, "%s/adir", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(lf_file_replace(path, "x", 1, 0600, err, sizeof err), -1);
    assert_non_null(strstr(err, "rename"));
    assert_int_equal(entries(), 1);
    rmdir(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_named, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
