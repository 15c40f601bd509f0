"""Efficient attention: sparse patterns (``patterns``), flex_attention against dense SDPA
(``flex``), a pattern applied to a real model (``on_model``), linearised attention (``linear``),
KV-cache arithmetic (``kv_cache``) and Multi-head Latent Attention (``mla``)."""
