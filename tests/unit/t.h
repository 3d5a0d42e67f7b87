/* Herald's unit-test harness: a test is a function, a failed check records
 * the file and line and the test goes on; the run prints TAP lines and ends
 * with "N passed, N failed" so scripts/test can count it. */
#ifndef HERALD_T_H
#define HERALD_T_H

#include <stdio.h>
#include <string.h>

static int t_failed_checks;
static int t_passed, t_failed;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                        \
            t_failed_checks++;                                               \
        }                                                                    \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                   \
    do {                                                                     \
        long long t_a_ = (long long)(a), t_b_ = (long long)(b);              \
        if (t_a_ != t_b_) {                                                  \
            fprintf(stderr, "  %s:%d: %s == %lld, expected %s == %lld\n",    \
                    __FILE__, __LINE__, #a, t_a_, #b, t_b_);                 \
            t_failed_checks++;                                               \
        }                                                                    \
    } while (0)

#define CHECK_MEM(p, n, q, m)                                                \
    do {                                                                     \
        size_t t_n_ = (n), t_m_ = (m);                                       \
        if (t_n_ != t_m_ || memcmp((p), (q), t_n_) != 0) {                   \
            fprintf(stderr, "  %s:%d: bytes of %s (%zu) differ from %s (%zu)\n", \
                    __FILE__, __LINE__, #p, t_n_, #q, t_m_);                 \
            t_failed_checks++;                                               \
        }                                                                    \
    } while (0)

#define CHECK_STR(a, b) CHECK_MEM((a), strlen(a), (b), strlen(b))

/* Run one test function and print its TAP line. */
#define RUN(fn)                                                              \
    do {                                                                     \
        int t_before_ = t_failed_checks;                                     \
        fn();                                                                \
        if (t_failed_checks == t_before_) {                                  \
            t_passed++;                                                      \
            printf("ok %d - %s\n", t_passed + t_failed, #fn);                \
        } else {                                                             \
            t_failed++;                                                      \
            printf("not ok %d - %s\n", t_passed + t_failed, #fn);            \
        }                                                                    \
        fflush(stdout);                                                      \
    } while (0)

/* Print the closing count line; the exit status says whether all passed. */
#define T_DONE()                                                             \
    (printf("%d passed, %d failed\n", t_passed, t_failed), t_failed ? 1 : 0)

#endif
