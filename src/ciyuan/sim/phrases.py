"""The phrase bank simulated answers are drawn from: plain sentences in Chinese and English.

Answers are sequences of these sentences, so their token streams look like real assistant
output (words, punctuation, Han characters, numbers) to tokenizers and streaming counters.
The sentences are written for this project; they carry no meaning beyond sounding plausible.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["OPENERS", "PHRASES", "TOOL_WORDS"]

_EN = (
    "Here is a short overview of the main points.",
    "The first step is to state the goal clearly and agree on how success will be measured.",
    "In practice, most of the cost comes from a small number of large requests.",
    "A simple table often makes the comparison easier to read.",
    "It helps to start with a small sample and check the results by hand.",
    "The numbers below are rounded to two decimal places.",
    "If the input changes, the estimate should be recomputed rather than adjusted.",
    "Keep the configuration in one file so that reviews stay simple.",
    "There are three common approaches, each with its own trade-offs.",
    "The second option is cheaper, but it responds more slowly under load.",
    "For most teams, the default settings are a reasonable place to begin.",
    "Logs should record what happened, when it happened, and who asked for it.",
    "A retry with exponential backoff usually resolves transient errors.",
    "Measure before optimizing, and measure again afterwards.",
    "The result depends on the language of the text as well as its length.",
    "Short answers are not always better; completeness matters as well.",
    "Each record carries an identifier, so duplicates can be detected later.",
    "When the budget is reached, new requests should wait or be declined politely.",
    "Caching repeated prefixes can cut the input cost of long conversations.",
    "Let me know if you would like a more detailed example.",
    "In summary, the plan is feasible within the stated constraints.",
    "Check the month-end totals against the provider's own statement.",
    "Streaming responses arrive in small pieces, one after another.",
    "A clear error message tells the user what to do next.",
    "The test suite covers the normal path and the most likely failures.",
    "Prices per million tokens are only comparable when the units match.",
    "This approach scales to several thousand requests per second.",
    "Consider the time zone when grouping events by day.",
    "Version every price change, and never edit history in place.",
    "Numbers such as 42, 3.14 and 2026 appear in reports all the time.",
)

_ZH = (
    "下面先简要概括一下主要观点。",
    "第一步是明确目标，并约定如何衡量效果。",
    "在实际使用中，大部分成本来自少数几个大请求。",
    "用一张简单的表格来对比，会更容易看清楚。",
    "建议先用少量样本试运行，再人工核对结果。",
    "以下数字均保留两位小数。",
    "如果输入发生变化，应当重新计算，而不是在原结果上修修补补。",
    "把配置集中放在一个文件里，评审起来会简单很多。",
    "常见的做法有三种，各有利弊。",
    "第二种方案成本更低，但在高负载下响应会慢一些。",
    "对大多数团队来说，默认设置就是不错的起点。",
    "日志应当记录发生了什么、何时发生、由谁发起。",
    "遇到临时性错误时，按指数退避重试通常就能解决。",
    "先测量再优化，优化之后还要再测量一次。",
    "结果既取决于文本的长度，也取决于文本的语言。",
    "回答并不是越短越好，完整性同样重要。",
    "每条记录都带有唯一编号，方便日后发现重复。",
    "预算用完以后，新的请求应当排队等待或者被礼貌地拒绝。",
    "对重复出现的前缀做缓存，可以明显降低长对话的输入成本。",
    "如果需要更详细的例子，请告诉我。",
    "总的来说，在现有约束下这个方案是可行的。",
    "月底请把汇总数字与服务商的账单逐项核对。",
    "流式响应会被拆成很多小片段，依次到达。",
    "清晰的错误信息会告诉用户下一步该怎么做。",
    "测试覆盖了正常流程和最可能出现的故障。",
    "只有计量单位一致时，每百万词元的价格才有可比性。",
    "这种做法可以扩展到每秒数千个请求。",
    "按天汇总事件时，要注意时区的差别。",
    "每次调价都要留存版本，绝不能直接改写历史。",
    "报表里经常出现 42、3.14 和 2026 这样的数字。",
)

#: Sentences by answer language (``zh`` for Chinese and mixed prompts, ``en`` otherwise).
PHRASES: Mapping[str, tuple[str, ...]] = MappingProxyType({"en": _EN, "zh": _ZH})
#: How an answer that follows a tool result begins.
OPENERS: Mapping[str, str] = MappingProxyType({
    "en": "Based on the tool result, ",
    "zh": "根据工具返回的结果，",
})
#: Words in a prompt that ask for a tool when no tool is named (lower case).
TOOL_WORDS: tuple[str, ...] = ("tool", "function", "call ", "use the", "工具", "调用", "查询")
