"""MPC messages and network hops of the Hawk job, from iris-mpc's and ampc-common's source.

Every count below is read off the code (docs/hawk-source.md sections 3-4: ampc-common c47f0b5,
iris-mpc c3ecdf92b958); the few quantities the code does not fix (search iterations, quicksort
levels) are scenario values with their ranges in docs/hawk.md's estimates table.

A *message* is one `send_*` of one party (one round: every party sends one and receives one);
a *hop* is one one-way network delay on the critical path. `two_way_split` and `bit_inject` order
their sends by role, so a long chain of messages has HOPS_PER_MESSAGE hops per message
(3,708 hops for 3,493 messages in a whole search, from a three-party scheduler of the protocol).

    c = search_counts(sc)          # messages per phase of one search, and the total
    c["messages"], c["hops"]
"""
from __future__ import annotations

import math

# --- per MPC building block, messages per party (hawk-source.md section 3)
MSG_DISTANCE_BATCH = 59     # eval_distance_batch: lift 19 (reshare + 17-AND ripple + bit_inject) + MinRotation min 40
MSG_FILTER = 9              # less_than_batch: cross_mul + extract_msb (7) + open_bin
MSG_THRESHOLD = 8           # lte_and_open: extract_msb (7) + open_bin
MSG_ARGMIN_LEVEL = 10       # oblivious_cross_compare_lifted (9) + reshare_mux select
MSG_OPEN = 1                # open_ring
MSG_SORT_LEVEL = MSG_FILTER  # insert_batch_and_trim: one less_than_batch per quicksort level
MSG_COMPACTION_LEVEL = 10   # swap-network layer: oblivious_less_than (8) + bit_inject + reshare_mux
COMPACTION_SWAP_LAYERS = 46  # min_k_batcher network for 705 -> 576 at layer 0 (its depth)
MSG_SHUFFLE = 2             # shuffle_batch (party 1 sends twice)
HOPS_PER_MESSAGE = 3708 / 3493  # critical path over messages of a whole search (role-ordered sends)

LAYER_DENSITY = 240         # LAYER_DENSITY (prod): P(layer >= l) = 240^-l
LAYER1_IDS_PER_ITERATION = 3000  # estimate: ~12k ids at layer 1 per search over ~4 iterations


def entry_points(db_size: int) -> int:
    """Nodes at layer >= 2, all scanned by search_init's linear scan (LINEAR_SCAN_MAX_GRAPH_LAYER = 1)."""
    return max(1, round(db_size / LAYER_DENSITY ** 2))


def argmin_levels(n: int) -> int:
    return max(0, math.ceil(math.log2(max(n, 1))))


def hops(messages: float) -> float:
    """Critical-path one-way hops of a chain of `messages` messages per party."""
    return messages * HOPS_PER_MESSAGE


def init_messages(db_size: int) -> int:
    """search_init: one distance batch over the entry points, the argmin tournament, one open."""
    return MSG_DISTANCE_BATCH + MSG_ARGMIN_LEVEL * argmin_levels(entry_points(db_size)) + MSG_OPEN


def layer_init_messages(sort_levels_init: float) -> float:
    """A layer's start: open W's first node (one distance batch), insert_batch_and_trim."""
    return MSG_DISTANCE_BATCH + MSG_SORT_LEVEL * sort_levels_init


def iteration_messages(sort_levels: float) -> float:
    """One layer_search_batched_v2 iteration: distance batch, filter, insert_batch_and_trim."""
    return MSG_DISTANCE_BATCH + MSG_FILTER + MSG_SORT_LEVEL * sort_levels


def classify_messages() -> int:
    """classify_edges: is_match_at at the anon-stats threshold (the second check, over the
    survivors at the match threshold, runs only when some result passes: left out)."""
    return MSG_THRESHOLD


def compaction_messages() -> int:
    """compact_neighborhood_batch, once per side per job: one distance batch, the swap network,
    one shuffle, one open."""
    return MSG_DISTANCE_BATCH + MSG_COMPACTION_LEVEL * COMPACTION_SWAP_LAYERS + MSG_SHUFFLE + MSG_OPEN


def intra_messages() -> int:
    """An intra-batch task with MPC: pairwise distances (one lift + MinRotation min), one threshold check."""
    return MSG_DISTANCE_BATCH + MSG_THRESHOLD


def search_counts(db_size: int, layer0_iterations: float, layer1_iterations: float,
                  sort_levels_layer0: float, sort_levels_layer0_init: float,
                  sort_levels_layer1: float, sort_levels_layer1_init: float) -> dict:
    """Messages per party of one search, per phase (hawk-source.md section 4), their total and
    the critical-path hops. Ef 480 at layer 0 and 32 at layer 1 for every rotation
    (EF_SEARCH_LAYERS_OVERRIDE); both layers run layer_search_batched_v2."""
    init = init_messages(db_size)
    layer1 = layer_init_messages(sort_levels_layer1_init) + layer1_iterations * iteration_messages(sort_levels_layer1)
    layer0 = layer_init_messages(sort_levels_layer0_init) + layer0_iterations * iteration_messages(sort_levels_layer0)
    classify = classify_messages()
    total = init + layer1 + layer0 + classify
    return {"init": init, "layer1": layer1, "layer0": layer0, "classify": classify,
            "messages": total, "hops": hops(total)}
