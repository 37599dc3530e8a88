/* indexer settings: [kafka] topics and dlq_topic are checked at load
 * (Kafka's name rule, regexes compile, no regex eats the dead-letter topic). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "indexer/ix.h"
#include "indexer/settings.h"

/* Loads a config whose [kafka] section (line 1) has these lines; returns
 * ix_settings_check's status, err filled. */
static int check_kafka(const char *kafka_lines, char *err, size_t errlen)
{
    char text[2048];
    snprintf(text, sizeof text, "[kafka]\n%s\n", kafka_lines);
    cfg *c = NULL;
    err[0] = 0;
    if (cfg_load_string(&c, "ix.ini", text, ix_sections, err, errlen))
        return -2;
    int rc = ix_settings_check(c, err, errlen);
    cfg_free(c);
    return rc;
}

static void good_topics(void **st)
{
    char err[512];
    assert_int_equal(check_kafka("topics = nginx, app-demo, java.orders_1", err, sizeof err), 0);
    assert_int_equal(check_kafka("topics = ^(nginx|apache|httpd|syslog|app|java)([-_.].*)?$", err, sizeof err), 0);
    assert_int_equal(check_kafka("topics = ^logs-.*\ndlq_topic = logferry-dlq", err, sizeof err), 0);
}

static void blank_separated_list_refused(void **st)
{
    char err[512];
    assert_int_equal(check_kafka("topics = nginx-demo app-demo java-demo", err, sizeof err), -1);
    assert_non_null(strstr(err, "ix.ini:1: [kafka] topics: \"nginx-demo app-demo java-demo\""));
    assert_non_null(strstr(err, "commas"));
}

static void bad_names_refused(void **st)
{
    char err[512], line[200];
    assert_int_equal(check_kafka("topics = a/b", err, sizeof err), -1);
    assert_non_null(strstr(err, "ix.ini:1: [kafka] topics: \"a/b\""));
    assert_int_equal(check_kafka("topics = ..", err, sizeof err), -1);
    /* the reader's 199-byte lines keep names below Kafka's 249 anyway */
    memset(line, 'x', sizeof line);
    memcpy(line, "topics = ", 9);
    line[9 + 180] = 0;
    assert_int_equal(check_kafka(line, err, sizeof err), 0);
}

static void bad_regex_refused(void **st)
{
    char err[512];
    assert_int_equal(check_kafka("topics = ^logs-(.*", err, sizeof err), -1);
    assert_non_null(strstr(err, "ix.ini:1: [kafka] topics: \"^logs-(.*\": bad regex"));
    assert_int_equal(check_kafka("topics = ^[a-", err, sizeof err), -1);
    assert_non_null(strstr(err, "bad regex"));
}

static void regex_matching_dlq_refused(void **st)
{
    char err[512];
    assert_int_equal(check_kafka("topics = ^logferry-.*", err, sizeof err), -1);
    assert_non_null(strstr(err, "matches dlq_topic logferry-dlq"));
    assert_int_equal(check_kafka("topics = ^logferry-.*\ndlq_topic = dead.letters", err, sizeof err), 0);
}

static void bad_dlq_topic_refused(void **st)
{
    char err[512];
    assert_int_equal(check_kafka("topics = nginx\ndlq_topic = dead letters", err, sizeof err), -1);
    assert_non_null(strstr(err, "ix.ini:1: [kafka] dlq_topic: \"dead letters\""));
    assert_int_equal(check_kafka("topics = nginx\ndlq_topic = ^dlq", err, sizeof err), -1);
    assert_non_null(strstr(err, "dlq_topic"));
}

/* Found by test_indexer_input_fuzz: an error must name a line that
 * exists ("file:0:" for a file without [kafka]) and the option at fault
 * with its file and line (a bad password_file said only ": No such file or
 * directory"). */
static void errors_name_file_line_and_option(void **st)
{
    char err[512];
    cfg *c = NULL;
    assert_int_equal(cfg_load_string(&c, "ix.ini", "", ix_sections, err, sizeof err), 0);
    assert_int_equal(ix_settings_check(c, err, sizeof err), -1);
    assert_string_equal(err, "ix.ini: [kafka] topics: at least one topic is needed "
                             "(the file has no [kafka] section)");
    cfg_free(c);
    static const struct { const char *es, *want; } bad[] = {
        {"username = ix\npassword_file =\n", "ix.ini:3: [elasticsearch] password_file: : "},
        {"api_key_file = /nonexistent/key\n", "ix.ini:3: [elasticsearch] api_key_file: /nonexistent/key: "},
        {"ca_file = /nonexistent/ca.pem\n", "ix.ini:3: [elasticsearch] ca_file: /nonexistent/ca.pem: "},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[512];
        snprintf(text, sizeof text, "[kafka]\ntopics = a\n[elasticsearch]\n%s", bad[i].es);
        assert_int_equal(cfg_load_string(&c, "ix.ini", text, ix_sections, err, sizeof err), 0);
        assert_int_equal(ix_settings_check(c, err, sizeof err), 0);
        assert_int_equal(ix_check(c, err, sizeof err), -1);
        if (strncmp(err, bad[i].want, strlen(bad[i].want)) != 0)
            fail_msg("\"%s\" does not start with \"%s\"", err, bad[i].want);
        cfg_free(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_topics),
        cmocka_unit_test(blank_separated_list_refused),
        cmocka_unit_test(bad_names_refused),
        cmocka_unit_test(bad_regex_refused),
        cmocka_unit_test(regex_matching_dlq_refused),
        cmocka_unit_test(bad_dlq_topic_refused),
        cmocka_unit_test(errors_name_file_line_and_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
