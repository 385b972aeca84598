/* `clstyle batch`'s pure parts (host/batch.c): the manifest's lines and columns, paths
 * relative to its folder, every shard of N covering the jobs exactly once, the shard from
 * Slurm's and Kubernetes' variables, the refusals, and outputs two jobs share. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "batch.h"
#include "paths.h"
#include "testutil.h"

static int parse(clstyle_batch *b, const char *path, const char *text)
{
    clstyle_error err = {0};
    char *t = tu_xmalloc(strlen(text) + 1);
    memcpy(t, text, strlen(text) + 1);
    clstyle_status st = clstyle_batch_parse(b, path, t, strlen(text), &err);
    CHECK(st == CLSTYLE_OK, "parse: %s", err.msg);
    return st == CLSTYLE_OK;
}

static void test_lines(void)
{
    clstyle_batch b;
    const char *text = "# a comment\n"
                       "a.png\ts.png\tout/a.png\n"
                       "\n"
                       "   \t \n"
                       "/abs/b.png\ts1.png,s2.png\tb.jpg\t--iters 50  --style-weight 1e4 \r\n"
                       "c.png\ts.png\n"
                       "c.png\t\tc.png\n"
                       "c.png\ts.png,,t.png\tc.png\n"
                       "c.png\ts.png\tc.png\t--iters 2\textra\n"
                       "last.png\ts.png\tlast-out.png"; /* no newline at the end */
    if (!parse(&b, "jobs/m.tsv", text)) return;
    CHECK(!strcmp(b.dir, "jobs"), "dir '%s'", b.dir);
    CHECK(b.njobs == 7, "%d jobs, want 7", b.njobs);
    if (b.njobs != 7) goto done;
    const clstyle_batch_job *j = b.jobs;
    CHECK(j[0].line == 2 && !j[0].error && !strcmp(j[0].content, "a.png") && !strcmp(j[0].output, "out/a.png") &&
              j[0].nstyle == 1 && !strcmp(j[0].words[0], "s.png") && j[0].nopt == 0,
          "line 2");
    CHECK(j[1].line == 5 && !j[1].error && j[1].nstyle == 2 && !strcmp(j[1].words[1], "s2.png") && j[1].nopt == 4 &&
              !strcmp(j[1].words[2], "--iters") && !strcmp(j[1].words[5], "1e4"),
          "line 5: the options split on spaces, CR taken off (%d words)", j[1].nopt);
    CHECK(j[2].line == 6 && j[2].error && strstr(j[2].error, "found 2 columns"), "line 6: %s",
          j[2].error ? j[2].error : "accepted");
    CHECK(j[3].line == 7 && j[3].error && strstr(j[3].error, "style column is empty"), "line 7: %s",
          j[3].error ? j[3].error : "accepted");
    CHECK(j[4].line == 8 && j[4].error && strstr(j[4].error, "an empty item"), "line 8: %s",
          j[4].error ? j[4].error : "accepted");
    CHECK(j[5].line == 9 && j[5].error && strstr(j[5].error, "more than 4"), "line 9: %s",
          j[5].error ? j[5].error : "accepted");
    CHECK(j[6].line == 10 && !j[6].error && !strcmp(j[6].output, "last-out.png"), "line 10 (no newline)");
    char buf[64];
    clstyle_error err = {0};
    CHECK(!clstyle_batch_resolve(&b, "x/y.png", buf, sizeof buf, &err) && !strcmp(buf, "jobs/x/y.png"), "%s", buf);
    CHECK(!clstyle_batch_resolve(&b, "/abs/y.png", buf, sizeof buf, &err) && !strcmp(buf, "/abs/y.png"), "%s", buf);
    char lng[100];
    memset(lng, 'a', sizeof lng - 1);
    lng[sizeof lng - 1] = '\0';
    CHECK(clstyle_batch_resolve(&b, lng, buf, sizeof buf, &err) == CLSTYLE_ERR_USAGE, "a path too long");
done:
    clstyle_batch_free(&b);
    if (parse(&b, "m.tsv", "a\tb\tc\n")) CHECK(!strcmp(b.dir, ".") && b.njobs == 1, "no folder: '%s'", b.dir);
    clstyle_batch_free(&b);
    if (parse(&b, "/m.tsv", "")) CHECK(!strcmp(b.dir, "/") && b.njobs == 0, "root, empty: '%s' %d", b.dir, b.njobs);
    clstyle_batch_free(&b);
    char many[200] = "c\t";
    for (int i = 0; i <= CLSTYLE_MAX_STYLES; i++) strcat(many, i ? ",s.png" : "s.png");
    strcat(many, "\to.png\n");
    if (parse(&b, "m.tsv", many))
        CHECK(b.njobs == 1 && b.jobs[0].error && strstr(b.jobs[0].error, "more than 16"), "17 styles: %s",
              b.jobs[0].error ? b.jobs[0].error : "accepted");
    clstyle_batch_free(&b);
    static const char nul[] = "a\tb\0x\tc\n";
    char *t = tu_xmalloc(sizeof nul);
    memcpy(t, nul, sizeof nul);
    CHECK(!clstyle_batch_parse(&b, "m.tsv", t, sizeof nul - 1, &err) && b.njobs == 1 && b.jobs[0].error &&
              strstr(b.jobs[0].error, "NUL"),
          "a NUL byte");
    clstyle_batch_free(&b);
}

static void test_read(void)
{
    const char *dir = tu_tmpdir("test_batch");
    clstyle_batch b;
    clstyle_error err = {0};
    CHECK(clstyle_batch_read(&b, tu_path(dir, "nosuch.tsv"), &err) == CLSTYLE_ERR_NOINPUT && strstr(err.msg, "nosuch"),
          "a missing manifest: %s", err.msg);
    CHECK(clstyle_batch_read(&b, dir, &err) == CLSTYLE_ERR_NOINPUT && strstr(err.msg, "folder"), "a folder: %s",
          err.msg);
    /* longer than the first read's buffer */
    const int lines = 20000;
    size_t at = 0;
    char *text = tu_xmalloc((size_t)lines * 32), last[32];
    for (int i = 0; i < lines; i++) at += (size_t)sprintf(text + at, "c%d.png\ts.png\to%d.png\n", i % 7, i);
    tu_write_file(tu_path(dir, "big.tsv"), text, at);
    free(text);
    snprintf(last, sizeof last, "o%d.png", lines - 1);
    CHECK(clstyle_batch_read(&b, tu_path(dir, "big.tsv"), &err) == CLSTYLE_OK && b.njobs == lines &&
              !strcmp(b.jobs[lines - 1].output, last) && b.jobs[lines - 1].line == lines,
          "a manifest larger than one read: %s (%d jobs)", err.msg, b.njobs);
    clstyle_batch_free(&b);
}

/* Every shard of n takes each job once, and the shards' sizes differ by one at most. */
static void test_cover(void)
{
    for (int n = 1; n <= 9; n++)
        for (int jobs = 0; jobs <= 23; jobs++) {
            int seen[23] = {0}, most = 0, least = jobs;
            for (int k = 1; k <= n; k++) {
                clstyle_batch_shard s = {.k = k, .n = n};
                int mine = 0;
                for (int i = 0; i < jobs; i++)
                    if (clstyle_batch_in_shard(&s, i)) seen[i]++, mine++;
                most = mine > most ? mine : most;
                least = mine < least ? mine : least;
            }
            for (int i = 0; i < jobs; i++) CHECK(seen[i] == 1, "n %d, job %d taken %d times", n, i, seen[i]);
            CHECK(most - least <= 1, "n %d, %d jobs: shards of %d to %d", n, jobs, least, most);
        }
}

static int pick(const char *flag, long shards, clstyle_batch_env env, int k, int n)
{
    clstyle_batch_shard s;
    clstyle_error err = {0};
    clstyle_status st = clstyle_batch_shard_pick(flag, shards, &env, &s, &err);
    if (!k) {
        CHECK(st == CLSTYLE_ERR_USAGE && err.msg[0], "flag %s, shards %ld: accepted as %d/%d", flag ? flag : "-", shards,
              s.k, s.n);
        return st == CLSTYLE_ERR_USAGE;
    }
    CHECK(st == CLSTYLE_OK && s.k == k && s.n == n, "flag %s, shards %ld: %s %d/%d, want %d/%d", flag ? flag : "-",
          shards, err.msg, s.k, s.n, k, n);
    return st == CLSTYLE_OK;
}

static void test_shards(void)
{
    const clstyle_batch_env none = {0};
    pick(NULL, 0, none, 1, 1);
    pick("2/4", 0, none, 2, 4);
    pick("1/1", 0, none, 1, 1);
    pick("4/4", 4, none, 4, 4);
    const char *bad[] = {"0/2", "3/2", "2", "/2", "1/", "a/b", "1/2/3", "-1/2", "+1/2", " 1/2", "1/0", "1.5/2",
                         "99999999999/99999999999", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) pick(bad[i], 0, none, 0, 0);
    pick("1/2", 3, none, 0, 0);   /* --shards disagrees with --shard */
    pick(NULL, 3, none, 0, 0);    /* --shards without an index */

    /* Slurm: --array=0-3 (0-based), --array=1-4 (MIN 1), --array=0-12:4 (STEP 4) */
    for (int id = 0; id < 4; id++) {
        char ids[8], one[8], step[8];
        snprintf(ids, sizeof ids, "%d", id);
        snprintf(one, sizeof one, "%d", id + 1);
        snprintf(step, sizeof step, "%d", 4 * id);
        pick(NULL, 0, (clstyle_batch_env){.slurm_id = ids, .slurm_count = "4"}, id + 1, 4);
        pick(NULL, 0, (clstyle_batch_env){.slurm_id = one, .slurm_count = "4", .slurm_min = "1", .slurm_max = "4"},
             id + 1, 4);
        pick(NULL, 0, (clstyle_batch_env){.slurm_id = step, .slurm_count = "4", .slurm_min = "0", .slurm_max = "12",
                                          .slurm_step = "4"},
             id + 1, 4);
    }
    const clstyle_batch_env s2 = {.slurm_id = "3", .slurm_count = "4", .slurm_min = "1", .slurm_max = "4"};
    pick("3/4", 0, s2, 3, 4);     /* --shard that agrees */
    pick("3/4", 4, s2, 3, 4);
    pick("2/4", 0, s2, 0, 0);     /* disagrees */
    pick("3/5", 0, s2, 0, 0);
    pick(NULL, 5, s2, 0, 0);      /* --shards disagrees with the array */
    pick(NULL, 0, (clstyle_batch_env){.slurm_id = "4", .slurm_count = "4"}, 0, 0); /* 1-4 without MIN */
    pick(NULL, 0, (clstyle_batch_env){.slurm_id = "0", .slurm_count = "4", .slurm_min = "1"}, 0, 0);
    pick(NULL, 0, (clstyle_batch_env){.slurm_id = "7", .slurm_count = "3", .slurm_min = "1", .slurm_max = "7"}, 0,
         0); /* --array=1,3,7 */
    pick(NULL, 0, (clstyle_batch_env){.slurm_id = "2", .slurm_count = "3", .slurm_step = "2"}, 2, 3); /* 0-4:2 */
    pick(NULL, 0, (clstyle_batch_env){.slurm_id = "3", .slurm_count = "3", .slurm_step = "2"}, 0, 0);
    pick(NULL, 0, (clstyle_batch_env){.slurm_id = "x", .slurm_count = "3"}, 0, 0);
    pick(NULL, 0, (clstyle_batch_env){.slurm_id = "1"}, 0, 0); /* no COUNT */
    pick(NULL, 0, (clstyle_batch_env){.slurm_id = "1", .slurm_count = "0"}, 0, 0);

    /* Kubernetes: JOB_COMPLETION_INDEX 0..N-1 with --shards N */
    for (int i = 0; i < 3; i++) {
        char idx[8];
        snprintf(idx, sizeof idx, "%d", i);
        pick(NULL, 3, (clstyle_batch_env){.completion_index = idx}, i + 1, 3);
        char flag[8];
        snprintf(flag, sizeof flag, "%d/3", i + 1);
        pick(flag, 0, (clstyle_batch_env){.completion_index = idx}, i + 1, 3);
    }
    pick(NULL, 3, (clstyle_batch_env){.completion_index = "3"}, 0, 0);
    pick(NULL, 0, (clstyle_batch_env){.completion_index = "1"}, 0, 0); /* no --shards */
    pick("1/3", 0, (clstyle_batch_env){.completion_index = "1"}, 0, 0); /* disagrees */
    pick(NULL, 3, (clstyle_batch_env){.completion_index = "-1"}, 0, 0);
    pick(NULL, 0, (clstyle_batch_env){.slurm_id = "", .completion_index = ""}, 1, 1); /* empty = unset */
}

static void test_duplicates(void)
{
    const char *dir = tu_tmpdir("test_batch_dup");
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    mkdir(sub, 0755);
    tu_write_file(tu_path(dir, "exists.png"), "x", 1);
    /* job: 0 1 2 3 4 5; 1 and 4 write one file by different names; 5's folder does not exist */
    const char *paths[][2] = {{"a.png", "-o/--output"},          {"sub/../b.png", "-o/--output"},
                              {"sub/b.png", "-o/--output"},      {"exists.png", "-o/--output"},
                              {"./sub/./../b.png", "--log"},     {"none/x/../y.png", "-o/--output"},
                              {"none/y.png", "--checkpoint"}};
    const int job[] = {0, 1, 2, 3, 4, 5, 5};
    const int n = (int)(sizeof job / sizeof job[0]);
    char keys[7][8192];
    clstyle_batch_output outs[7], a, b;
    for (int i = 0; i < n; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, paths[i][0]);
        clstyle_paths_key(p, keys[i], sizeof keys[i]);
        outs[i] = (clstyle_batch_output){.key = keys[i], .job = job[i], .flag = paths[i][1], .path = paths[i][0]};
    }
    CHECK(!strcmp(keys[5], keys[6]) && strstr(keys[5], "/none/y.png") && !strstr(keys[5], ".."),
          "lexical keys: %s, %s", keys[5], keys[6]);
    CHECK(keys[3][0] == '=', "an existing file's key is its identity: %s", keys[3]);
    CHECK(clstyle_batch_find_duplicate(outs, n, &a, &b) && a.job == 1 && b.job == 4 && !strcmp(b.flag, "--log"),
          "1 and 4 share b.png (%d, %d)", a.job, b.job);
    clstyle_batch_output two[2] = {{.key = "k", .job = 3, .flag = "-o/--output"}, {.key = "k", .job = 3, .flag = "--log"}};
    CHECK(!clstyle_batch_find_duplicate(two, 2, &a, &b), "one job's own files are its run's to check");
    /* the first pair in manifest order, whichever key sorts first */
    clstyle_batch_output many[6];
    const char *mk = "zazamm";
    const int mj[6] = {0, 5, 2, 4, 1, 3};
    static char mkey[6][2];
    for (int i = 0; i < 6; i++) {
        mkey[i][0] = mk[i];
        many[i] = (clstyle_batch_output){.key = mkey[i], .job = mj[i], .flag = "-o/--output"};
    }
    CHECK(clstyle_batch_find_duplicate(many, 6, &a, &b) && a.job == 0 && b.job == 2, "first pair: %d, %d", a.job,
          b.job);
}

int main(void)
{
    test_lines();
    test_read();
    test_cover();
    test_shards();
    test_duplicates();
    return tu_finish("test_batch");
}
