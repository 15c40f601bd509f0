"""Attention: one head's weights recomputed through the model's adapter (``heads``), per-head
statistics and thumbnails (``stats``), attention rollout for text and ViT (``rollout``), and the
offline bertviz embed (``bertviz_offline``).

The notebook API is re-exported here: ``core.attention.head_weights(result, layer, head)``,
``core.attention.head_stats(result)``, ``core.attention.rollout(result)``.
"""
from core.attention.heads import head_qk, head_scores, head_weights, layer_qk, masked_head  # noqa: F401
from core.attention.stats import head_stats, overview  # noqa: F401
from core.attention.stats import rollout  # noqa: F401
