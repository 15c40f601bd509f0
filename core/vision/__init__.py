"""Vision: ViT patches, position embeddings and attention (``vit``), patch-feature maths
(``features``), DINOv2 ViT-S/14 converted offline (``dinov2``), CLIP similarity (``clip``), the tiny
CLIP trained here (``tiny_clip``) and the synthetic scenes it learns from.

``analyse_image(image, model="dinov2-vits14", resolution=224)`` is the one call the ViT page makes,
for DINOv2, the tiny CLIP and ViT-B-32 alike (``core.vision.analysis``)."""
from core.vision.analysis import analyse_image  # noqa: F401
