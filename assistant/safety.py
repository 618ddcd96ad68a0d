"""Input checks before anything else sees a message: length limit, prompt injection, off-topic.

Prompt injection cannot change behaviour here by construction: the LLM only ever fills an
Intent (validated JSON) and its free text is grounded before a shopper sees it; replies are built
from templates. This module additionally strips injection phrases so they do not reach the LLM,
answers requests for the system prompt with a fixed line, and catches any reply that would echo
the prompt (`leaks_prompt`).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Literal

from assistant.rules import parse_rules
from assistant.schema import CUE_OFF_TOPIC, RuleParse

MAX_MESSAGE_CHARS = 2000

Kind = Literal["ok", "empty", "too_long", "injection", "off_topic"]


@dataclass
class SafetyVerdict:
    ok: bool                 # False: do not parse; send `reply` instead
    kind: Kind
    message: str             # the text to parse (injection phrases removed); "" when not ok
    reply: str | None = None  # the fixed answer when not ok
    language: str = "en"
    # the rules' parse of `message` when ok: the turn's one parse, handed on to the intent
    # pipeline and the dialogue (parse_intent(..., rules=verdict.parse)) so nothing parses again
    parse: RuleParse | None = None


_INJECTION = re.compile(
    r"(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+|the\s+|your\s+|my\s+|previous\s+|prior\s+|above\s+|earlier\s+)*"
    r"(?:instructions?|rules?|prompts?|directions?|guidelines?|constraints?|system\s+prompt)[^.!?\n]*"
    r"|(?:print|show|reveal|repeat|display|output|tell me|give me|what(?:'s| is| are))\s+(?:me\s+)?(?:your|the)\s+"
    r"(?:full\s+|exact\s+|original\s+|hidden\s+|initial\s+)?(?:system\s+prompt|prompt|instructions|system\s+message|rules)[^.!?\n]*"
    r"|you\s+are\s+now\s+(?:a|an|in|DAN)\b[^.!?\n]*|(?:developer|god|jailbreak|dan)\s+mode[^.!?\n]*"
    r"|(?:pretend|act)\s+(?:to\s+be|as)\s+(?:a|an)\s+(?!shopper|customer)[^.!?\n]*"
    r"|new\s+instructions?:[^\n]*|system\s*:\s*[^\n]*|<\s*/?\s*(?:system|im_start|im_end)[^>]*>"
    r"|忽略(?:之前|以上|前面|所有)?的?(?:所有)?(?:指令|指示|规则|提示)[^。！？\n]*"
    r"|(?:告诉我|显示|打印|输出|重复)(?:你的)?(?:系统)?(?:提示词|提示|指令)[^。！？\n]*|系统提示(?:词)?",
    re.I)

REPLIES = {
    "empty": ("Tell me what you're looking for, for example \"a matte lipstick under $20\".",
              "告诉我你想买什么，比如“200元以内的哑光口红”。"),
    "too_long": ("That message is {n:,} characters long; the limit is {limit:,}. Please shorten it to what "
                 "you're looking for.", "这条消息有 {n:,} 个字符，上限是 {limit:,}。请简短地说说你想买什么。"),
    "injection": ("I can't share or change my instructions, but I'm happy to help you shop. What are you "
                  "looking for?", "我不能透露或更改我的指令，但很乐意帮你购物。你想找什么？"),
    "off_topic": ("I'm a shopping assistant, so I can only help with finding products. What would you like "
                  "to buy?", "我是购物助手，只能帮你找商品。你想买点什么？"),
    "greeting": ("Hi! Tell me what you're looking for, for example \"a matte lipstick under $20\" or "
                 "\"a birthday gift for my mom\".", "你好！告诉我你想买什么，比如“200元以内的哑光口红”或“送妈妈的生日礼物”。"),
    "thanks": ("You're welcome! Anything else you'd like to find?", "不客气！还想找点别的吗？"),
    "help": ("I can find products from the catalog, narrow them down (\"cheaper\", \"in blue\", \"not black\"), "
             "compare them and answer questions about them from the catalog text.",
             "我可以在商品目录里帮你找商品、按价格颜色等筛选（“便宜一点”“不要黑色”）、比较商品，并根据商品资料回答问题。"),
}

_THANKS = re.compile(r"\b(?:thanks?|thank you|thx|ty|cheers)\b|谢谢|多谢|感谢", re.I)
_HELP = re.compile(r"\b(?:help|what can you do|what do you do|who are you|how does this work)\b|你能做什么|你是谁|怎么用|帮助",
                   re.I)


def chitchat_reply(message: str, language: str | None = None) -> str:
    """A short fixed reply for a chitchat turn: thanks, help, greeting, or the shopping redirect."""
    language = language or _language(message or "")
    if CUE_OFF_TOPIC in parse_rules(message or "").cues:
        kind = "off_topic"
    elif _THANKS.search(message or ""):
        kind = "thanks"
    elif _HELP.search(message or ""):
        kind = "help"
    else:
        kind = "greeting"
    return _reply(kind, language)


def _language(text: str) -> str:
    return "zh" if re.search(r"[\u3400-\u9fff]", text or "") else "en"


def _reply(kind: str, language: str, **values) -> str:
    en, zh = REPLIES[kind]
    return (zh if language == "zh" else en).format(**values)


def check(message: str | None, *, max_chars: int = MAX_MESSAGE_CHARS,
          brands: Iterable[str] | None = None) -> SafetyVerdict:
    """Decide whether a message goes on to the parser, and with what text. The rules parse that
    text once (with the catalog's `brands`); an ok verdict carries that parse on."""
    text = unicodedata.normalize("NFKC", message or "")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C").strip()
    language = _language(text)
    if not text:
        return SafetyVerdict(False, "empty", "", _reply("empty", language), language)
    if len(text) > max_chars:
        return SafetyVerdict(False, "too_long", "", _reply("too_long", language, n=len(text), limit=max_chars),
                             language)
    if _INJECTION.search(text):
        cleaned = re.sub(r"\s+", " ", _INJECTION.sub(" ", text)).strip(" ,.;:!?，。！？")
        parsed = parse_rules(cleaned, brands=brands) if cleaned else None
        rest = parsed.intent if parsed is not None else None
        if rest is not None and (rest.category or rest.must_have or rest.brand or rest.price_max is not None
                                 or rest.action in ("refine", "ask_about_product", "compare")):
            return SafetyVerdict(True, "injection", cleaned, None, language, parse=parsed)
        return SafetyVerdict(False, "injection", "", _reply("injection", language), language)
    parsed = parse_rules(text, brands=brands)
    if CUE_OFF_TOPIC in parsed.cues:
        return SafetyVerdict(False, "off_topic", "", _reply("off_topic", language), language)
    return SafetyVerdict(True, "ok", text, None, language, parse=parsed)


def leaks_prompt(reply: str, prompt: str, window: int = 60) -> bool:
    """True when `reply` contains any `window`-character stretch of `prompt` (normalised)."""
    norm_reply = re.sub(r"\s+", " ", reply or "").lower()
    norm_prompt = re.sub(r"\s+", " ", prompt or "").lower()
    if len(norm_prompt) < window:
        return bool(norm_prompt) and norm_prompt in norm_reply
    step = max(1, window // 2)
    return any(norm_prompt[i:i + window] in norm_reply for i in range(0, len(norm_prompt) - window + 1, step))
