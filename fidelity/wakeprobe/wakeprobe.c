/* wakeprobe: how long a blocked thread takes to run again after another thread wakes it, and what
 * the wake costs the waker, for the two ways a tokio worker parks:
 *   condvar  - pthread_cond_wait / pthread_cond_signal (tokio's park on the condvar: futex)
 *   epoll    - epoll_wait on an eventfd / write(eventfd)  (the worker parked on the driver, woken
 *              by mio's Waker)
 * The waker sleeps GAP_US before each wake, so the wakee has been blocked about that long (a
 * vCPU idle longer than its halt-poll window pays for leaving halt).
 *
 *   wakeprobe MODE GAP_US N [BUSY_US]
 *       -> one line: mode, gap, n, medians/p90 in ns of the wake latency (signal -> wakee
 *          running) and of the waker's cost, and the share of wakes that ran the wakee on the
 *          waker's CPU (`stacked`: the waker keeps running for BUSY_US after the wake, as a
 *          worker that notifies a sibling and goes on polling does; 0 = it blocks at once)
 * Build: cc -O2 -pthread -o wakeprobe wakeprobe.c
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER, back = PTHREAD_COND_INITIALIZER;
static volatile int flag, done_flag, stop;
static int efd, epfd, use_epoll;
static volatile int64_t t_woken;
static volatile int cpu_woken;

static void *wakee(void *arg) {
    (void)arg;
    for (;;) {
        if (use_epoll) {
            struct epoll_event ev;
            while (epoll_wait(epfd, &ev, 1, -1) != 1) {}
            t_woken = now_ns();
            cpu_woken = sched_getcpu();
            uint64_t v;
            if (read(efd, &v, sizeof v) < 0) {}
        } else {
            pthread_mutex_lock(&mu);
            while (!flag) pthread_cond_wait(&cv, &mu);
            flag = 0;
            t_woken = now_ns();
            cpu_woken = sched_getcpu();
            pthread_mutex_unlock(&mu);
        }
        if (stop) return NULL;
        pthread_mutex_lock(&mu);
        done_flag = 1;
        pthread_cond_signal(&back);
        pthread_mutex_unlock(&mu);
    }
}

static int cmp(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) { fprintf(stderr, "usage: wakeprobe condvar|epoll GAP_US N [BUSY_US]\n"); return 2; }
    long busy_ns = argc == 5 ? atol(argv[4]) * 1000 : 0;
    int stacked = 0;
    use_epoll = strcmp(argv[1], "epoll") == 0;
    long gap_us = atol(argv[2]); int n = atoi(argv[3]);
    efd = eventfd(0, EFD_NONBLOCK);
    epfd = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
    epoll_ctl(epfd, EPOLL_CTL_ADD, efd, &ev);
    pthread_t th;
    pthread_create(&th, NULL, wakee, NULL);
    int64_t *lat = malloc(sizeof(int64_t) * n), *cost = malloc(sizeof(int64_t) * n);
    struct timespec gap = {gap_us / 1000000, (gap_us % 1000000) * 1000};
    for (int i = 0; i < n + 1; i++) {
        nanosleep(&gap, NULL);
        if (i == n) stop = 1;
        int64_t t0 = now_ns();
        if (use_epoll) {
            uint64_t one = 1;
            if (write(efd, &one, sizeof one) < 0) {}
        } else {
            pthread_mutex_lock(&mu);
            flag = 1;
            pthread_cond_signal(&cv);
            pthread_mutex_unlock(&mu);
        }
        int64_t t1 = now_ns();
        if (i == n) break;
        int my_cpu = sched_getcpu();
        while (now_ns() - t1 < busy_ns) {}
        pthread_mutex_lock(&mu);
        while (!done_flag) pthread_cond_wait(&back, &mu);
        done_flag = 0;
        pthread_mutex_unlock(&mu);
        lat[i] = t_woken - t0;
        stacked += cpu_woken == my_cpu;
        cost[i] = t1 - t0;
    }
    pthread_join(th, NULL);
    qsort(lat, n, sizeof *lat, cmp);
    qsort(cost, n, sizeof *cost, cmp);
    printf("%s gap_us=%ld n=%d latency_p50=%lld latency_p90=%lld cost_p50=%lld cost_p90=%lld stacked=%.2f\n",
           argv[1], gap_us, n, (long long)lat[n / 2], (long long)lat[n * 9 / 10],
           (long long)cost[n / 2], (long long)cost[n * 9 / 10], (double)stacked / n);
    return 0;
}
