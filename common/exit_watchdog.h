/* exit_watchdog: a bound on a daemon's shutdown.
 *
 * Why: librdkafka's consumer close has no timeout. After a Kafka outage
 * longer than librdkafka's metadata lives (metadata.max.age.ms, 15 minutes
 * by default) it waits for the group coordinator until the session times
 * out (45 s by default), and after an hour-long outage rd_kafka_destroy was
 * seen waiting for good, so SIGTERM did not end the indexer (systemd kills
 * it after TimeoutStopSec; a SysV script just waits). What the
 * daemon must keep is kept before that point: the offsets it may commit
 * are stored, and records after the last committed offset are read again
 * after a restart (their _id makes that idempotent). So the shutdown gets
 * a deadline, after which the process says why and exits with the status
 * it was going to exit with. One watchdog per process. */
#ifndef LF_EXIT_WATCHDOG_H
#define LF_EXIT_WATCHDOG_H

/* From now on, the process has `seconds` to reach lf_exit_watchdog_disarm;
 * past that, it logs a warning naming `what` (e.g. "Kafka's close"),
 * removes `pidfile` (NULL: none; the string must live until disarm) and
 * _exit(code)s. Arming again moves the deadline. 0, or -1 when no thread
 * could be started (the shutdown is then unbounded, as before). */
int lf_exit_watchdog_arm(double seconds, const char *what, const char *pidfile, int code);

/* The shutdown is over: no exit. Waits for the watchdog's thread. */
void lf_exit_watchdog_disarm(void);

#endif
