"""Whisper (Radford et al. 2022) in Hugging Face's ``WhisperForConditionalGeneration``: the original
Transformer's two stacks (Vaswani et al. 2017), both pre-LayerNorm.

- Encoder, bidirectional: log-mel (80, 3000) -> conv1 (stride 1) -> GELU -> conv2 (stride 2) -> GELU
  -> + sinusoidal positions: 1,500 frames of 20 ms. Each layer:
  h_mid = h + out(attn(ln1(h))), out = h_mid + fc2(gelu(fc1(ln2(h_mid)))); then a final LayerNorm.
- Decoder, causal, over text tokens with learned positions. Each layer has three sublayers:
  h1 = h + self_attn(ln1(h)) (causal), h2 = h1 + cross_attn(ln2(h1), encoder output) (no mask: every
  query sees all 1,500 frames), out = h2 + mlp(ln3(h2)); final LayerNorm; unembedding tied to the
  token embedding.

The shared interface (``qk``, ``attention``, ``mlp``, ``block``, ``mask``) is the decoder's self-attention
stack, since that is what generates text; ``block`` then needs the encoder output (``set`` through
``decoder_layer``). The encoder and cross-attention have their own named operations below, all computed
functionally from hidden states (no hooks). Queries are scaled by d_head^-0.5 as in HF.

Shapes: a decoder stream is (pos, d_model); an encoder stream (frame, d_model); attention weights
(head, q_pos, k_pos), cross-attention (head, q_pos, frame).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from core.runtime.errors import UnsupportedArchitecture
from core.runtime.adapters.base import (ADD, BIDIRECTIONAL, GLOBAL, Adapter, Architecture, AttentionOut, Part,
                                        Stack, head_rows, layernorm_linear, split_output)

FRAME_S = 0.02           # one encoder position: 2 x 10 ms mel hops (conv2 has stride 2)


@dataclass(frozen=True)
class DecoderLayerOut:
    """One decoder layer: ``h + self_attn + cross_attn + mlp == out``, with the weights it used."""
    self_weights: torch.Tensor           # (head, q_pos, k_pos), causal
    cross_weights: torch.Tensor          # (head, q_pos, frame)
    out: torch.Tensor                    # (pos, d_model) entering the next layer


class WhisperAdapter(Adapter):
    family = "whisper"
    causal = True

    def __init__(self, model, config):
        super().__init__(model, config)
        base = getattr(model, "model", model)                       # WhisperModel inside the LM head
        self.encoder, self.decoder = base.encoder, base.decoder
        self.scale = self.layout.d_head ** -0.5

    @property
    def n_layers(self) -> int:
        return self.config.decoder_layers

    @property
    def n_encoder_layers(self) -> int:
        return self.config.encoder_layers

    # ---------------------------------------------------------------- description
    def architecture(self) -> Architecture:
        cfg, ln = self.config, Part("norm", "LayerNorm", "normalises the stream before the sublayer")
        mlp = Part("mlp", "MLP (gelu)", "two linear maps around a GELU, per position")
        enc = Stack("encoder",
                    (Part("input", "log-mel spectrogram", "80 mel bands x 3,000 frames of 10 ms (30 s)"),
                     Part("embed", "2 convolutions (stride 1, 2)", "3,000 mel frames -> 1,500 positions of 20 ms"),
                     Part("position", "+ sinusoidal positions", "fixed, one per 20 ms frame")),
                    (ln, Part("attention", "self-attention", f"{self.layout.n_heads} heads, bidirectional"), ADD,
                     ln, mlp, ADD),
                    (BIDIRECTIONAL,) * cfg.encoder_layers,
                    (Part("norm", "final LayerNorm", "the keys and values every cross-attention reads"),),
                    cfg.d_model, self.layout, cfg.encoder_ffn_dim, positions=cfg.max_source_positions,
                    input_shape=(cfg.num_mel_bins, 2 * cfg.max_source_positions))        # (mel, 10 ms frame)
        dec = Stack("decoder",
                    (Part("input", "token ids", "<|startoftranscript|><|notimestamps|> then the text so far"),
                     Part("embed", "token embedding", "one learned vector per vocabulary entry"),
                     Part("position", "+ learned positions", f"up to {cfg.max_target_positions} tokens")),
                    (ln, Part("attention", "masked self-attention", f"{self.layout.n_heads} heads, causal"), ADD,
                     ln, Part("cross_attention", "cross-attention", "queries from the text, keys and values "
                              "from the encoder's 1,500 frames"), ADD, ln, mlp, ADD),
                    (GLOBAL,) * cfg.decoder_layers,
                    (Part("norm", "final LayerNorm", "normalises the last layer's stream"),
                     Part("unembed", "unembedding (tied)", "vector -> one logit per vocabulary entry"),
                     Part("output", "next token", "greedy: the most likely token")),
                    cfg.d_model, self.layout, cfg.decoder_ffn_dim, cfg.vocab_size, reads="encoder")
        return Architecture(self.family, (enc, dec))

    # ---------------------------------------------------------------- encoder
    def embed_audio(self, features: torch.Tensor) -> torch.Tensor:
        """(mel, 3000) log-mel -> (frame, d_model): both convolutions, GELU and positions, as HF."""
        e = self.encoder
        x = torch.nn.functional.gelu(e.conv1(features[None].to(e.conv1.weight.dtype)))
        x = torch.nn.functional.gelu(e.conv2(x))                     # (1, d_model, frame)
        return x[0].T + e.embed_positions.weight[: x.shape[-1]]

    def encoder_qk(self, h: torch.Tensor, layer: int, heads=None):
        """(q, k, scale) of encoder layer ``layer`` from the stream entering it (frame, d_model)."""
        sa, x = self._encoder_in(h, layer)
        hs = self._heads(heads).to(h.device)
        d = self.layout.d_head
        return head_rows(sa.q_proj, x, hs, d), head_rows(sa.k_proj, x, hs, d), self.scale

    def encoder_weights(self, h: torch.Tensor, layer: int, heads=None) -> torch.Tensor:
        """(head, frame, frame): bidirectional, no mask."""
        return self.weights(*self.encoder_qk(h, layer, heads), None)

    def encoder_block(self, h: torch.Tensor, layer: int) -> torch.Tensor:
        """The stream leaving encoder layer ``layer``."""
        sa, x = self._encoder_in(h, layer)
        mid = h + self._mha(sa, x, x, None)[0]
        blk = self.encoder.layers[layer]
        return mid + blk.fc2(torch.nn.functional.gelu(blk.fc1(blk.final_layer_norm(mid))))

    def encoder_final(self, h: torch.Tensor) -> torch.Tensor:
        return self.encoder.layer_norm(h)

    def _encoder_in(self, h, layer):
        if not 0 <= layer < self.n_encoder_layers:
            raise IndexError(f"encoder layer {layer} out of range 0..{self.n_encoder_layers - 1}")
        blk = self.encoder.layers[layer]
        return blk.self_attn, blk.self_attn_layer_norm(h)

    # ---------------------------------------------------------------- decoder
    def _mha(self, att, xq: torch.Tensor, xkv: torch.Tensor, allowed, per_head: bool = False, edit_z=None):
        """Multi-head attention of ``att`` (q from xq, k/v from xkv): (write (pos, d_model), weights,
        per-head writes or None)."""
        hs, d = self._heads(None).to(xq.device), self.layout.d_head
        q, k, v = head_rows(att.q_proj, xq, hs, d), head_rows(att.k_proj, xkv, hs, d), head_rows(att.v_proj, xkv, hs, d)
        w = self.weights(q, k, self.scale, allowed)
        z = w.to(v.dtype) @ v                                          # (head, q_pos, d_head)
        if edit_z is not None:
            z = edit_z(z)
        total = att.out_proj(z.transpose(0, 1).reshape(xq.shape[0], -1))
        return total, w, (split_output(att.out_proj.weight, z) if per_head else None)

    def qk(self, h, layer, heads=None, rows=None):
        self._check_layer(layer)
        blk = self.decoder.layers[layer]
        x = blk.self_attn_layer_norm(h)
        hs = self._heads(heads).to(h.device)
        xq = x if rows is None else x[rows.to(h.device)]
        d = self.layout.d_head
        return head_rows(blk.self_attn.q_proj, xq, hs, d), head_rows(blk.self_attn.k_proj, x, hs, d), self.scale

    def attention(self, h, layer, allowed=None, per_head=False, edit_z=None) -> AttentionOut:
        """The decoder's masked self-attention write (the real causal mask unless ``allowed``)."""
        return self._self_attention(h, layer, allowed, per_head, edit_z)[0]

    def _self_attention(self, h, layer, allowed=None, per_head=False, edit_z=None):
        self._check_layer(layer)
        blk = self.decoder.layers[layer]
        mask = self.mask(layer, h.shape[0], device=h.device) if allowed is None else allowed.to(h.device)
        x = blk.self_attn_layer_norm(h)
        total, w, ph = self._mha(blk.self_attn, x, x, mask, per_head, edit_z)
        out = AttentionOut(total, ph, blk.self_attn.out_proj.bias if per_head else None)
        return out, w

    def cross_attention(self, h_mid: torch.Tensor, enc: torch.Tensor, layer: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(write (pos, d_model), weights (head, q_pos, frame)) of decoder layer ``layer``'s
        cross-attention, from the stream after its self-attention and the encoder's final output."""
        self._check_layer(layer)
        blk = self.decoder.layers[layer]
        total, w, _ = self._mha(blk.encoder_attn, blk.encoder_attn_layer_norm(h_mid), enc, None)
        return total, w

    def decoder_layer(self, h: torch.Tensor, enc: torch.Tensor, layer: int) -> DecoderLayerOut:
        """One decoder layer from the stream entering it and the encoder output (frame, d_model)."""
        attn, w_self = self._self_attention(h, layer)
        h1 = h + attn.total
        cross, w_cross = self.cross_attention(h1, enc, layer)
        h2 = h1 + cross
        return DecoderLayerOut(w_self, w_cross, h2 + self.mlp(h2, layer))

    def block(self, h, layer, allowed=None, per_head=False, edit_z=None, edit_mlp=None):
        raise UnsupportedArchitecture("a Whisper decoder layer also reads the encoder's output: "
                                      "use decoder_layer(h, encoder_output, layer)")

    def mlp(self, h_mid, layer):
        blk = self.decoder.layers[layer]
        return blk.fc2(torch.nn.functional.gelu(blk.fc1(blk.final_layer_norm(h_mid))))

    def final_norm(self, h):
        return self.decoder.layer_norm(h)

    def final_norm_linear(self, h_final):
        return layernorm_linear(self.decoder.layer_norm, h_final)

    def unembed(self, h):
        return self.model.get_output_embeddings()(h)
