#!/bin/bash
# A Slurm job array over a clstyle batch manifest: each array task runs its own shard of
# manifest.tsv (clstyle batch reads SLURM_ARRAY_TASK_ID, _MIN, _STEP and _COUNT itself), on
# one GPU, keeping its device context, kernels and weights from one job to the next.
# Resubmitting the array, or a requeued task, redoes only what is not done: outputs that
# exist are skipped and jobs with a checkpoint resume from it.
#
#   sbatch docs/batch/slurm-array.sh                 # from the folder of manifest.tsv
#   MANIFEST=run2/jobs.tsv sbatch --array=1-16 docs/batch/slurm-array.sh
#
# Lines of manifest.tsv (tab-separated; paths relative to the manifest's folder):
#   photos/a.jpg   styles/wave.png              out/a.jpg
#   photos/b.jpg   styles/wave.png,styles/x.png out/b.png   --style-blend 2,1 --checkpoint ck/b.st
#SBATCH --job-name=clstyle
#SBATCH --array=1-4
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=4
#SBATCH --mem=16G
#SBATCH --time=04:00:00
#SBATCH --output=clstyle-%A_%a.log
#SBATCH --requeue
#SBATCH --signal=B:TERM@120
# (SIGTERM two minutes before the time limit: the job running writes its image and
#  checkpoint and the task exits 143; without a checkpoint its image is removed, so the
#  rerun does it again.)

set -u
manifest=${MANIFEST:-manifest.tsv}
# Any number of tasks works: the shard count is the array's (SLURM_ARRAY_TASK_COUNT), and
# --array=1-4 or 0-3 give shards 1..4 of 4 alike. The cache folder may be shared by the
# tasks (its entries are written atomically); the first task on a node compiles for it.
# "exec" lets the batch itself receive Slurm's signal (--signal=B: sends it to the shell).
exec clstyle batch "$manifest" -d gpu -w "${CLSTYLE_WEIGHTS:-$HOME/.local/share/clstyle/vgg19.safetensors}" \
    --size 768 -n 500 -q
# The exit status is the number of jobs that failed (0: all ran or were skipped; 64 and
# up: a usage error before any job, 66 the manifest unreadable, 143 stopped); each job's
# line in the log says why: grep ' failed ' clstyle-*.log
