"""Vision: ViT patches, position embeddings and attention (``vit``), CLIP similarity (``clip``),
the tiny CLIP trained here (``tiny_clip``) and the synthetic scenes it learns from."""
