/* rules_cli: `logferry-indexer --test-rules [--rules FILE] [--topic T]`.
 * Reads records on `in`, one per line: a JSON envelope as the collector
 * writes it (DESIGN.md §2), or any other line as {"message": line}; applies
 * the rules and prints, first, the way the topic's JSON records are planned
 * to take through the rules (rules_explain; for a way slower than it
 * could be, the rule, file:line and what keeps them there)
 *     # topic=TOPIC way=none|direct|members|whole[: WHY]
 * then for each record
 *     #N index=INDEX _id=ID way=WAY    then the document (WAY: the way it took,
 *                                     as logferry_indexer_records_decoded_total counts it)
 * (the bytes the indexer would send, made by the same code, record_doc.h:
 * only indented for reading, numbers and escapes as sent)
 *     #N dropped by rule NAME
 *     #N dead-letter by rule NAME: REASON
 * where N is the input line number and ID is event.id, else stdin-0-N.
 * Blank lines are skipped. No Kafka or Elasticsearch involved. */
#ifndef LF_INDEXER_RULES_CLI_H
#define LF_INDEXER_RULES_CLI_H
#include <stdio.h>

/* rules_path NULL: no rules (pass-through). topic NULL: "stdin". Returns the
 * process exit status: 0, or 1 when the rules do not load (the reason, as
 * "file:line: reason", goes to err). */
int rules_cli_run_ex(const char *rules_path, const char *rules_dir, const char *topic,
                     FILE *in, FILE *out, FILE *err);
/* Same, without rules.d, errors to stderr. */
int rules_cli_run(const char *rules_path, const char *topic, FILE *in, FILE *out);

#endif
