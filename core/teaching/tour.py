"""The presenter tour: an ordered list of deep links through the pipeline, each with one
paragraph and a preset input chosen to make its point. Pure data; pages.ui.tour renders it."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode


@dataclass(frozen=True)
class Step:
    url_path: str                       # page (see pages/ui/nav.py)
    title: str
    explanation: str                    # one paragraph, said aloud by the presenter
    params: tuple[tuple[str, str], ...] = ()   # the page's own URL state: the preset input

    def query(self, index: int, present: bool) -> dict[str, str]:
        q = dict(self.params)
        q["tour"] = str(index)
        if present:
            q["present"] = "1"
        return q

    def link(self, index: int, present: bool = True) -> str:
        path = "" if self.url_path == "home" else self.url_path
        return f"/{path}?{urlencode(self.query(index, present))}"


STEPS: tuple[Step, ...] = (
    Step("home", "The whole pipeline in one sentence",
         "A transformer turns text into token ids, ids into vectors, mixes those vectors with "
         "attention in 30 blocks, and reads a probability for every possible next token off the "
         "last position. Everything on this page is one real forward pass of SmolLM2-135M.",
         (("text", "The capital of France is"), ("layer", "16"), ("head", "0"))),
    Step("tokenization", "Tokenization: the model never sees letters",
         "Seven real tokenizers split the same German compound. GPT-2's vocabulary, built mostly "
         "from English, needs many more pieces than o200k; WordPiece marks word-internal pieces with "
         "##, SentencePiece marks word starts with ▁. Token count is cost and context length.",
         (("preset", "German compounds"),)),
    Step("embeddings", "Static embeddings: one vector per word",
         "GloVe gives every word one fixed vector. Directions carry meaning: king − man + woman "
         "lands nearest to queen. But 'bank' gets the same vector beside a river and in a loan.",
         (("view", "static"),)),
    Step("embeddings", "Contextual embeddings: the vector depends on the sentence",
         "Inside a transformer, the vector for 'bank' changes with its neighbours, layer by layer. "
         "The similarity matrix shows river-bank and money-bank sentences drifting apart as depth grows.",
         (("view", "contextual"),)),
    Step("embeddings", "Positional encoding: where is each token?",
         "Attention alone is order-blind. The sinusoidal table gives each position a unique pattern "
         "of waves; RoPE instead rotates query and key pairs, so their dot product depends only on "
         "the distance between tokens.",
         (("view", "positional"), ("base", "10000"))),
    Step("attention", "Attention: who looks at whom",
         "Each head is a T×T table of weights; every row sums to 1. Layer 16 head 0 of SmolLM2 sends "
         "most of each token's attention to the token just before it — a 'previous-token head'. "
         "Many other heads park their weight on the first token instead: an attention sink. "
         "The overview ranks every head by entropy, distance, sink mass and previous-token weight.",
         (("input", "your text"), ("attn_layer", "16"), ("attn_head", "0"))),
    Step("causal", "The causal mask: no peeking ahead",
         "A decoder may only attend to earlier tokens. The mask sets scores above the diagonal to −∞ "
         "before the softmax, so those weights are exactly zero in SmolLM2 — and not in the "
         "bidirectional MiniLM encoder shown beside it.",
         (("sentence", "The cat sat on the mat"), ("mask_layer", "3"), ("mask_head", "0"))),
    Step("causal", "The next token, one step at a time",
         "One forward pass gives a distribution over the whole vocabulary. Temperature reshapes it, "
         "top-k and top-p cut its tail, and a seeded draw picks the token; the KV cache grows by one "
         "row per layer and KV head with every step.",
         (("prompt", "Once upon a time"), ("temperature", "0.7"), ("top_p", "0.9"), ("seed", "0"))),
    Step("inside", "The logit lens: watching the answer form",
         "Read the residual stream after every layer with the model's own final norm and unembedding, "
         "as if the model stopped there. For 'The capital of France is' the top token is filler for "
         "most of SmolLM2's 30 layers; ' Paris' becomes the top token only at the very end, its "
         "probability climbing from almost nothing to 0.77 over the last three layers.",
         (("tab", "Logit lens"), ("model", "smollm2-135m"), ("text", "The capital of France is"))),
    Step("inside", "Activation patching: where the answer lives",
         "Run 'The capital of Italy is', then copy one vector of the France run's residual stream into it "
         "and see how much of ' Paris' comes back. Up to layer 23 only the ' France' position matters; "
         "from layer 24 on the last position alone restores it: the fact has moved to the last token.",
         (("tab", "Patching"), ("model", "smollm2-135m"), ("preset", "France → Italy"),
          ("clean", "The capital of France is"), ("corrupted", "The capital of Italy is"), ("patch_target", ""))),
    Step("encoder-decoder", "Encoder–decoder: cross-attention from text to speech",
         "Whisper has the original Transformer's two stacks. The encoder reads 30 s of log-mel spectrogram "
         "as 1,500 positions of 20 ms, bidirectionally; the decoder writes text with causal self-attention "
         "plus cross-attention to those positions. Each token's cross-attention lands on the stretch of audio "
         "it transcribes, so the image runs diagonally, and dynamic time warping over it times every token. "
         "The robotic espeak-ng voice's 'brown fox' comes back as 'roundfoc'.",
         (("tab", "Cross-attention"), ("source", "Typed text (espeak-ng)"),
          ("cross_head", "mean of the alignment heads"))),
    Step("sparse", "Sparse attention: skip most of the matrix",
         "BigBird keeps a sliding window, a few global and a few random blocks: a small fraction of "
         "the 4096×4096 scores. Measured with FlexAttention against dense SDPA on this machine — "
         "the speed-up is measured, never assumed.",
         (("pattern", "bigbird"), ("n", "4096"))),
    Step("kv-cache", "KV cache and MLA: memory grows with context",
         "Every generated token stores keys and values in every layer. GQA shares KV heads; MLA "
         "caches one compressed latent plus a small RoPE key per layer. A common claim says MLA's "
         "memory is constant in sequence length. The paper that introduced it (DeepSeek-V2, "
         "arXiv:2405.04434) counts (d_c + d_h^R) numbers per token per layer: the cache grows "
         "linearly with context, like MHA's, just with a much smaller slope.",
         (("models", "Llama-2-70B|Llama-3-70B|DeepSeek-V3"), ("focus", "DeepSeek-V3"))),
    Step("vit", "Vision transformers: an image is a sequence of patches",
         "A ViT cuts the image into a grid of patches, flattens each into a token and adds a learned "
         "position embedding; the CLS token's attention shows where the model looks.", ()),
    Step("clip", "CLIP: images and text in one space",
         "CLIP trains an image tower and a text tower so that matching pairs have the highest cosine "
         "similarity. Zero-shot classification is just picking the caption with the highest score.", ()),
    Step("scaling", "Scaling laws: how big, how much data",
         "Loss falls as a power law in parameters and tokens. For a fixed compute budget, Chinchilla "
         "(Hoffmann et al. 2022) says grow both about equally: Approaches 1 and 2 give ≈20 tokens per "
         "parameter. Its Approach 3 formula, drawn here, gives more (≈50–120, rising with compute); the "
         "Epoch AI refit of that formula (Besiroglu et al. 2024) comes back to ≈20. Llama 3 deliberately "
         "trains far past either to make inference cheap.",
         (("fit", "hoffmann"), ("tab", "Real models"))),
)


def steps_for(available_paths: set[str]) -> list[Step]:
    """The steps whose page ships in this build, in tour order."""
    return [s for s in STEPS if s.url_path in available_paths]
