#!/usr/bin/env bash
# SLURM batch script: one rank per GPU, tp ranks per node (the tp group stays
# inside a node), dp across nodes. Under the default NCCL backend `--device auto`
# (the default) puts each rank's model on its GPU. Submit with e.g.
#   sbatch --nodes=2 --ntasks-per-node=8 --gpus-per-node=8 launch/slurm.sh edit --config run.cfg
#SBATCH --job-name=revive
#SBATCH --exclusive
set -euo pipefail
root=${REVIVE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
tp=${REVIVE_TP:-${SLURM_NTASKS_PER_NODE:-1}}
export REVIVE_TP=$tp
export REVIVE_COMM=${REVIVE_COMM:-nccl}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}
exec srun --mpi=pmix "${REVIVE_BIN:-$root/build/launch/revive}" "$@"
