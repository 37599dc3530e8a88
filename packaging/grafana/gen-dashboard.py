#!/usr/bin/python3
# Writes logferry.json, the Grafana dashboard for the daemons' Prometheus
# metrics (prefix logferry_): /usr/bin/python3 gen-dashboard.py > logferry.json
# test/e2e/packaging.sh checks that every metric queried here is registered.
import json
DS = {"type": "prometheus", "uid": "${datasource}"}
panels = []
y = 0
pid = 0
def nid():
    global pid; pid += 1; return pid
def row(title):
    global y
    panels.append({"type": "row", "title": title, "id": nid(), "collapsed": False,
                   "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
    y += 1
def ts(title, targets, unit="short", x=0, w=12, h=8, desc="", stack=False, step=False, newline=True):
    global y
    p = {"type": "timeseries", "title": title, "id": nid(), "datasource": DS, "description": desc,
         "gridPos": {"h": h, "w": w, "x": x, "y": y},
         "fieldConfig": {"defaults": {"unit": unit, "min": 0,
                                      "custom": {"lineWidth": 1, "fillOpacity": 10 if not stack else 30,
                                                 "stacking": {"mode": "normal" if stack else "none"},
                                                 "lineInterpolation": "stepAfter" if step else "linear",
                                                 "showPoints": "never"}},
                         "overrides": []},
         "options": {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["mean", "max", "lastNotNull"]},
                     "tooltip": {"mode": "multi", "sort": "desc"}},
         "targets": [{"datasource": DS, "refId": chr(65 + i), "expr": e, "legendFormat": l}
                     for i, (e, l) in enumerate(targets)]}
    panels.append(p)
    if x + w >= 24:
        y += h
def stat(title, expr, unit, x, w=4, h=4, desc="", thresholds=None):
    p = {"type": "stat", "title": title, "id": nid(), "datasource": DS, "description": desc,
         "gridPos": {"h": h, "w": w, "x": x, "y": y},
         "fieldConfig": {"defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": thresholds or [{"color": "green", "value": None}]}},
                         "overrides": []},
         "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                     "colorMode": "value", "graphMode": "area", "textMode": "auto", "justifyMode": "auto",
                     "orientation": "auto"},
         "targets": [{"datasource": DS, "refId": "A", "expr": expr, "instant": False}]}
    panels.append(p)

C = 'instance=~"$collector"'
I = 'instance=~"$indexer"'
R = "[$__rate_interval]"
red = lambda v: [{"color": "green", "value": None}, {"color": "red", "value": v}]
amber = lambda a, r: [{"color": "green", "value": None}, {"color": "orange", "value": a}, {"color": "red", "value": r}]

row("Overview")
stat("Records acknowledged by Kafka", f'sum(rate(logferry_collector_records_sent_total{{{C}}}{R}))', "reqps", 0,
     desc="Records per second the collectors got acknowledged by Kafka (acks=all; a multiline record is one).")
stat("Documents indexed", f'sum(rate(logferry_indexer_records_indexed_total{{{I}}}{R}))', "reqps", 4,
     desc="Documents per second Elasticsearch created.")
stat("Bytes behind (all files)", f'sum(logferry_collector_file_bytes_behind{{{C}}})', "bytes", 8,
     desc="Sum over watched files of size minus acknowledged offset: what the collectors still have to ship.",
     thresholds=amber(100*1024*1024, 1024*1024*1024))
stat("Consumer lag", f'sum(logferry_indexer_consumer_lag{{{I}}})', "short", 12,
     desc="Records in Kafka the indexers have not consumed yet.", thresholds=amber(100000, 1000000))
stat("Dead-lettered /s", f'sum(rate(logferry_indexer_records_dead_lettered_total{{{I}}}{R}))', "reqps", 16,
     desc="Records sent to the dead-letter topic (Elasticsearch refused them, or a rule could not name their index).",
     thresholds=red(0.001))
stat("Delivery errors /s", f'sum(rate(logferry_collector_delivery_errors_total{{{C}}}{R}))', "reqps", 20,
     desc="Records Kafka did not acknowledge; they are read again, not lost.", thresholds=red(0.001))
y += 4

row("Collector")
ts("Lines read and records acknowledged, by source", [
    (f'sum by (source) (rate(logferry_collector_lines_read_total{{{C}}}{R}))', "read {{source}}"),
    (f'sum by (source) (rate(logferry_collector_records_sent_total{{{C}}}{R}))', "acked {{source}}")],
   "reqps", x=0, desc="Throughput per source: lines read from files and records Kafka acknowledged (multiline joins lines into one record).")
ts("Bytes read and acknowledged, by source", [
    (f'sum by (source) (rate(logferry_collector_bytes_read_total{{{C}}}{R}))', "read {{source}}"),
    (f'sum by (source) (rate(logferry_collector_bytes_sent_total{{{C}}}{R}))', "acked {{source}}")],
   "Bps", x=12)
ts("Bytes behind, by host and source", [
    (f'sum by (instance, source) (logferry_collector_file_bytes_behind{{{C}}})', "{{instance}} {{source}}")],
   "bytes", x=0, desc="File size minus acknowledged offset. Grows while Kafka is slow or down: the files are the buffer.")
ts("Files furthest behind (top 10)", [
    (f'topk(10, logferry_collector_file_bytes_behind{{{C}}})', "{{instance}} {{path}}")],
   "bytes", x=12)
ts("Delivery errors, by reason", [
    (f'sum by (reason) (rate(logferry_collector_delivery_errors_total{{{C}}}{R}))', "{{reason}}")],
   "reqps", x=0, desc="Records Kafka did not acknowledge (timeouts, broker errors). They are re-read from the file.")
ts("Producer queue depth", [
    (f'logferry_collector_queue_depth{{{C}}}', "{{instance}}")],
   "short", x=12, desc="Records handed to librdkafka and not acknowledged yet (bounded by kafka queue_max_messages/bytes).")
ts("Reading paused (waiting for Kafka)", [
    (f'logferry_collector_paused{{{C}}}', "{{instance}}")],
   "short", x=0, step=True, desc="1 while reading waits for the producer queue to drain (backpressure).")
ts("Open files and rotations", [
    (f'logferry_collector_open_files{{{C}}}', "open {{instance}}"),
    (f'sum by (kind) (rate(logferry_collector_rotations_total{{{C}}}{R})) * 60', "rotations/min {{kind}}")],
   "short", x=12)
ts("Collector drops and losses (should stay at 0)", [
    (f'sum(rate(logferry_collector_records_dropped_total{{{C}}}{R}))', "records too large for Kafka"),
    (f'sum(rate(logferry_collector_lines_truncated_total{{{C}}}{R}))', "lines truncated (max_line_bytes)"),
    (f'sum(rate(logferry_collector_deleted_bytes_dropped_total{{{C}}}{R}))', "bytes of deleted files given up"),
    (f'sum(rate(logferry_collector_bytes_lost_total{{{C}}}{R}))', "bytes lost after close"),
    (f'sum(rate(logferry_collector_utf8_replacements_total{{{C}}}{R}))', "invalid UTF-8 replaced")],
   "short", x=0, w=12, desc="Every way a line can leave the pipeline other than Kafka, counted with its reason.")
ts("Configuration and state errors", [
    (f'sum(increase(logferry_collector_sources_rejected_total{{{C}}}{R}))', "etcd/INI sources refused"),
    (f'sum(increase(logferry_collector_registry_errors_total{{{C}}}{R}))', "registry write failures"),
    (f'sum(increase(logferry_collector_paths_skipped_total{{{C}}}{R}))', "paths skipped"),
    (f'sum(logferry_collector_producer_recreated{{{C}}})', "producers recreated"),
    (f'max by (instance) (logferry_collector_config_restart_pending{{{C}}})', "changes waiting for a restart {{instance}}")],
   "short", x=12, desc="Sources refused, registry writes failed, paths skipped, producers recreated; and settings changed in collector.ini that a reload could not apply (named in the log).")
ts("Sources running; etcd watch", [
    (f'sum by (instance) (logferry_collector_sources{{{C}}})', "sources {{instance}}"),
    (f'min by (instance) (logferry_collector_etcd_connected{{{C}}})', "etcd connected {{instance}}"),
    (f'sum by (instance, source) (logferry_collector_source_no_match{{{C}}})', "no file matches {{instance}} {{source}}")],
   "short", x=0, step=True, desc="Sources running per collector; 1 while the etcd watch is established; 1 while a must_exist source matches no file.")
ts("etcd sources refused; deleted files given up", [
    (f'sum by (reason) (increase(logferry_collector_etcd_sources_rejected_total{{{C}}}{R}))', "etcd value refused: {{reason}}"),
    (f'sum(increase(logferry_collector_deleted_files_closed_total{{{C}}}{R}))', "deleted files closed unfinished")],
   "short", x=12, desc="A refused etcd value is logged with its key; the other sources keep running.")

row("Indexer")
ts("Records consumed and indexed", [
    (f'sum by (topic) (rate(logferry_indexer_records_consumed_total{{{I}}}{R}))', "consumed {{topic}}"),
    (f'sum(rate(logferry_indexer_records_indexed_total{{{I}}}{R}))', "indexed"),
    (f'sum(rate(logferry_indexer_records_duplicate_total{{{I}}}{R}))', "duplicates (409)")],
   "reqps", x=0, desc="Duplicates are records indexed before (a collector re-sent them after a crash): counted as done.")
ts("Consumer lag, by topic", [
    (f'sum by (topic) (logferry_indexer_consumer_lag{{{I}}})', "{{topic}}")],
   "short", x=12, desc="High watermark minus next offset to consume, summed over partitions.")
ts("Bulk request latency", [
    (f'histogram_quantile(0.5, sum by (le) (rate(logferry_indexer_bulk_duration_seconds_bucket{{{I}}}{R})))', "p50"),
    (f'histogram_quantile(0.95, sum by (le) (rate(logferry_indexer_bulk_duration_seconds_bucket{{{I}}}{R})))', "p95"),
    (f'histogram_quantile(0.99, sum by (le) (rate(logferry_indexer_bulk_duration_seconds_bucket{{{I}}}{R})))', "p99")],
   "s", x=0)
ts("Bulk requests, by result", [
    (f'sum by (result) (rate(logferry_indexer_bulk_requests_total{{{I}}}{R}))', "{{result}}")],
   "reqps", x=12, stack=True, desc="ok; retry (429/5xx/timeout, only the failed items are sent again); split (413).")
ts("Dead-lettered, by status", [
    (f'sum by (status) (rate(logferry_indexer_records_dead_lettered_total{{{I}}}{R}))', "{{status}}")],
   "reqps", x=0, desc="Records written to the dead-letter topic, by Elasticsearch item status (0: refused by the rules).")
ts("Retries", [
    (f'sum(rate(logferry_indexer_items_retried_total{{{I}}}{R}))', "items retried"),
    (f'sum(rate(logferry_indexer_dead_letter_failures_total{{{I}}}{R}))', "dead-letter deliveries retried")],
   "reqps", x=12)
ts("Dropped by rule", [
    (f'sum by (rule) (rate(logferry_rules_dropped_total{{{I}}}{R}))', "{{rule}}")],
   "reqps", x=0, desc="Records a rule's drop action removed, by rule name.")
ts("Partitions paused and assigned; changes waiting for a restart", [
    (f'sum by (instance) (logferry_indexer_partitions_paused{{{I}}})', "paused {{instance}}"),
    (f'sum by (instance) (logferry_indexer_partitions_assigned{{{I}}})', "assigned {{instance}}"),
    (f'max by (instance) (logferry_indexer_config_restart_pending{{{I}}})', "config changes waiting for a restart {{instance}}")],
   "short", x=12, step=True, desc="Partitions are paused while Elasticsearch is slow (memory stays bounded). Settings changed in indexer.ini that a reload could not apply are counted until a restart (named in the log).")
ts("Records held in memory", [
    (f'logferry_indexer_inflight_bytes{{{I}}}', "held {{instance}}"),
    (f'logferry_indexer_item_cache_bytes{{{I}}}', "kept for reuse {{instance}}")],
   "bytes", x=0, desc="Bytes batching, in flight, waiting for a retry or for the dead-letter topic (bounded by max_buffered_bytes), and the blocks of records done kept for the next ones (at most as much again).")
ts("Bulk requests in flight; offsets stored", [
    (f'logferry_indexer_inflight_requests{{{I}}}', "in flight {{instance}}"),
    (f'sum(rate(logferry_indexer_offsets_stored_total{{{I}}}{R}))', "offsets stored /s"),
    (f'sum(rate(logferry_indexer_records_not_json_total{{{I}}}{R}))', "records not JSON /s")],
   "short", x=12)
ts("Rule failures, by rule and action (records kept, tagged)", [
    (f'sum by (rule, action) (rate(logferry_rules_failures_total{{{I}}}{R}))', "{{rule}} {{action}}")],
   "reqps", x=0, w=24, desc="A parse, timestamp, convert or set that failed: the record is indexed as it was, tagged _<action>_failure:RULE.")
ts("Records by how much was parsed", [
    (f'sum by (parsed) (rate(logferry_indexer_records_decoded_total{{{I}}}{R}))', "{{parsed}}")],
   "reqps", x=0, w=24, desc="none: no rule selects the topic, sent as written; members: only what the rules name was parsed; whole: raw records, values that are not JSON, rules whose fields are only known per record (parse = json or kv without a target).")

def var_instance(name, metric, label):
    return {"name": name, "label": label, "type": "query", "datasource": DS,
            "query": {"query": f"label_values({metric}, instance)", "refId": "StandardVariableQuery"},
            "definition": f"label_values({metric}, instance)", "refresh": 2, "includeAll": True,
            "multi": True, "allValue": ".*", "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
            "sort": 1}

dash = {
    "__requires": [{"type": "grafana", "id": "grafana", "name": "Grafana", "version": "9.0.0"},
                   {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"}],
    "title": "logferry", "uid": "logferry", "description":
        "logferry-collector and logferry-indexer: throughput, backlog, errors, dead letters, drops. Metrics from /metrics of each daemon (prefix logferry_).",
    "tags": ["logferry", "logs", "kafka", "elasticsearch"], "timezone": "browser",
    "schemaVersion": 38, "version": 1, "editable": True, "graphTooltip": 1,
    "time": {"from": "now-3h", "to": "now"}, "refresh": "30s",
    "templating": {"list": [
        {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
         "current": {}, "hide": 0, "refresh": 1},
        var_instance("collector", "logferry_collector_lines_read_total", "Collectors"),
        var_instance("indexer", "logferry_indexer_records_consumed_total", "Indexers")]},
    "annotations": {"list": []},
    "links": [],
    "panels": panels,
}
print(json.dumps(dash, indent=2))
