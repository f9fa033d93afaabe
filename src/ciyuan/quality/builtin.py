"""The built-in suite, generated here from templates with a fixed seed (written for ciyuan,
no outside source): 7 task classes in English and Chinese, every item with its reference
and, for the simulated provider's hidden key, one correct and one wrong answer.

``python -m ciyuan.quality.builtin`` rewrites ``data/builtin.jsonl`` and
``data/builtin-key.jsonl``; a test checks that the committed files are current and that every
correct answer passes its scorer and every wrong one fails it.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["SUITE_VERSION", "generate", "prompt_key", "write"]

SUITE_VERSION = "2026.11"
DATA = Path(__file__).with_name("data")
_COMPANIES = [("Acme", "杭州"), ("Zenith", "上海"), ("Orbit", "深圳"), ("Lumen", "北京"),
              ("Nimbus", "成都"), ("Vertex", "广州"), ("Harbor", "南京"), ("Quill", "武汉")]
_PAIRS = [
    ('the invoice is due tomorrow', '发票明天到期'),
    ('please check the budget', '请检查预算'),
    ('the model is very fast', '这个模型很快'),
    ('our team uses three agents', '我们的团队使用三个智能体'),
    ('the price fell this month', '本月价格下降了'),
    ('send me the report', '把报告发给我'),
    ('the meeting starts at nine', '会议九点开始'),
    ('this answer is correct', '这个答案是正确的'),
    ('we need more data', '我们需要更多数据'),
    ('the server is down', '服务器宕机了'),
    ('thank you for your patience', '感谢您的耐心'),
    ('the order has shipped', '订单已发货'),
    ('tokens are the unit of usage', '词元是用量的单位'),
    ('the contract ends in june', '合同六月结束'),
    ('please reset my password', '请重置我的密码'),
    ('the test passed', '测试通过了'),
    ('costs are rising quickly', '成本正在快速上升'),
    ('the city is crowded', '这座城市很拥挤'),
    ('open the window please', '请打开窗户'),
    ('the train is late again', '火车又晚点了'),
    ('we hired two engineers', '我们招聘了两名工程师'),
    ('the weather is cold today', '今天天气很冷'),
    ('the bill looks wrong', '账单看起来不对'),
    ('read the manual first', '先阅读说明书'),
    ('our sales doubled', '我们的销售额翻了一番'),
]
_CODE = [  # (name, signature, spec en, spec zh, solution, wrong solution, tests)
    ("add", "a, b", "returns the sum of a and b", "返回 a 与 b 的和",
     "return a + b", "return a - b", ["add(2, 3) == 5", "add(-1, 1) == 0"]),
    ("is_even", "n", "returns True when n is even", "当 n 为偶数时返回 True",
     "return n % 2 == 0", "return n % 2 == 1", ["is_even(4)", "not is_even(7)"]),
    ("reverse", "s", "returns the string s reversed", "返回反转后的字符串 s",
     "return s[::-1]", "return s", ["reverse('abc') == 'cba'", "reverse('') == ''"]),
    ("count_vowels", "s", "returns how many of the letters aeiou (any case) s contains",
     "返回 s 中元音字母 aeiou（不区分大小写）的个数",
     "return sum(c in 'aeiou' for c in s.lower())", "return len(s)",
     ["count_vowels('Token') == 2", "count_vowels('xyz') == 0"]),
    ("largest", "xs", "returns the largest number in the non-empty list xs",
     "返回非空列表 xs 中最大的数", "return max(xs)", "return xs[0]",
     ["largest([3, 9, 2]) == 9", "largest([-5, -2]) == -2"]),
    ("factorial", "n", "returns n! for n >= 0", "返回 n 的阶乘（n >= 0）",
     "import math\n    return math.factorial(n)", "return n * (n - 1)",
     ["factorial(0) == 1", "factorial(5) == 120"]),
    ("dedupe", "xs", "returns xs without repeated items, keeping first occurrences in order",
     "返回去掉重复项后的 xs，保留首次出现的顺序",
     "return list(dict.fromkeys(xs))", "return sorted(set(xs))",
     ["dedupe([3, 1, 3, 2, 1]) == [3, 1, 2]", "dedupe([]) == []"]),
    ("word_count", "text", "returns the number of whitespace-separated words in text",
     "返回 text 中以空白分隔的单词数", "return len(text.split())", "return len(text)",
     ["word_count('a bc  d') == 3", "word_count('') == 0"]),
    ("per_million", "cost, tokens", "returns cost divided by tokens times one million",
     "返回 cost 除以 tokens 再乘以一百万", "return cost / tokens * 1_000_000",
     "return cost * tokens", ["per_million(2.5, 1_000_000) == 2.5",
                              "abs(per_million(0.01, 4000) - 2.5) < 1e-9"]),
    ("is_palindrome", "s", "returns True when s reads the same backwards",
     "当 s 正读反读相同时返回 True", "return s == s[::-1]", "return len(s) > 3",
     ["is_palindrome('level')", "not is_palindrome('lever')"]),
]


def prompt_key(prompt: str) -> str:
    """How the hidden key names an item: the SHA-256 of its prompt."""
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()


Item = dict[str, Any]
Entry = tuple[Item, str, str]  # the item, a correct answer, a wrong answer


def _math(rng: random.Random, n: int, zh: bool) -> Entry:
    a, b = rng.randint(120, 9800), rng.randint(3, 60)
    kind = n % 3
    if kind == 0:
        q = (f"一个智能体周一用了 {a} 个词元，周二用了 {b * 100} 个。"
             "两天一共用了多少个词元？" if zh else
             f"An agent used {a} tokens on Monday and {b * 100} on Tuesday. How many in total?")
        answer = a + b * 100
    elif kind == 1:
        q = (f"每百万词元价格为 {b} 美元，{a * 1000} 个词元花费多少美元？" if zh else
             f"At {b} dollars per million tokens, what do {a * 1000} tokens cost in dollars?")
        answer_text = str(round(b * a * 1000 / 1_000_000, 6))
        return (_item("math", n, zh, q, answer_text, "numeric", {"rel_tol": 1e-6}),
                f"{'答案是' if zh else 'The cost is '}{answer_text}",
                f"{'答案是' if zh else 'The cost is '}{round(float(answer_text) * 2 + 1, 6)}")
    else:
        q = (f"{a} 个请求中有 {b}% 失败了。失败了多少个请求？（四舍五入到整数）" if zh else
             f"{b}% of {a} requests failed. How many failed, rounded to a whole number?")
        answer = round(a * b / 100)
    return (_item("math", n, zh, q, str(answer), "numeric"),
            f"{'答案：' if zh else 'Answer: '}{answer}",
            f"{'答案：' if zh else 'Answer: '}{answer + 7}")


def _item(task: str, n: int, zh: bool, prompt: str, reference: Any, scorer: str,
          options: dict[str, Any] | None = None) -> Item:
    item: Item = {"id": f"{task}-{'zh' if zh else 'en'}-{n:03d}", "task": task,
                  "language": "zh" if zh else "en", "prompt": prompt, "reference": reference,
                  "scorer": scorer}
    if options:
        item["options"] = options
    return item


def _extraction(rng: random.Random, n: int, zh: bool) -> Entry:
    company, city = rng.choice(_COMPANIES)
    invoice, amount = f"INV-{rng.randint(1000, 9999)}", rng.randint(20, 9000)
    text = (f"{city}的 {company} 公司开具了发票 {invoice}，金额 {amount} 美元。" if zh else
            f"{company} of {city} issued invoice {invoice} for {amount} USD.")
    prompt = (f"从下面的句子中提取 JSON（字段 invoice、company、city、amount）：{text}"
              if zh else
              f"Extract JSON with fields invoice, company, city, amount from: {text}")
    fields = {"invoice": invoice, "company": company, "city": city, "amount": amount}
    schema = {"type": "object", "required": list(fields),
              "properties": {"invoice": {"type": "string"}, "company": {"type": "string"},
                             "city": {"type": "string"}, "amount": {"type": "number"}}}
    wrong = {**fields, "amount": amount + 100, "invoice": "INV-0000"}
    return (_item("extraction", n, zh, prompt, {"schema": schema, "fields": fields}, "json"),
            "```json\n" + json.dumps(fields, ensure_ascii=False) + "\n```",
            json.dumps(wrong, ensure_ascii=False))


def _qa(rng: random.Random, n: int, zh: bool) -> Entry:
    values = rng.sample(range(10, 999), 4)
    letters = "ABCD"
    largest = letters[values.index(max(values))]
    options = " ".join(f"{c}) {v}" for c, v in zip(letters, values, strict=True))
    prompt = (f"哪个数最大？{options}。只回答选项字母。" if zh else
              f"Which number is the largest? {options}. Answer with the letter only.")
    wrong = next(c for c in letters if c != largest)
    return (_item("qa", n, zh, prompt, largest, "choice"),
            f"{'答案是' if zh else 'The answer is '}{largest}",
            f"{'答案是' if zh else 'The answer is '}{wrong}")


def _code(rng: random.Random, n: int, zh: bool) -> Entry:
    name, args, spec_en, spec_zh, solution, wrong, tests = _CODE[n % len(_CODE)]
    prompt = (f"写一个 Python 函数 {name}({args})，{spec_zh}。只给出代码。" if zh else
              f"Write a Python function {name}({args}) that {spec_en}. Give only the code.")
    if n >= len(_CODE):  # a second wording of the same task
        prompt = prompt.replace("Give only the code.", "Reply with a code block.").replace(
            "只给出代码。", "用代码块回答。")

    def block(body: str) -> str:
        return f"```python\ndef {name}({args}):\n    {body}\n```"
    return (_item("code", n, zh, prompt, "\n".join(f"assert {t}" for t in tests), "code"),
            block(solution), block(wrong))


def _translation(rng: random.Random, n: int, zh: bool) -> Entry:
    en, cn = _PAIRS[n % len(_PAIRS)]
    if zh:  # zh -> en
        prompt, reference, wrong_pair = (f"把这句话翻译成英文：{cn}", en,
                                         _PAIRS[(n + 7) % len(_PAIRS)][0])
    else:
        prompt, reference, wrong_pair = (f"Translate into Chinese: {en}", cn,
                                         _PAIRS[(n + 7) % len(_PAIRS)][1])
    return (_item("translation", n, zh, prompt, reference, "f1", {"threshold": 0.6}),
            reference, wrong_pair)


def _customer_service(rng: random.Random, n: int, zh: bool) -> Entry:
    order = f"#{rng.randint(100000, 999999)}"
    prompt = (f"客户说：我的订单 {order} 晚到了三天。请写一段回复，提到订单号并致歉。" if zh else
              f"A customer writes: my order {order} arrived three days late. Reply, naming the "
              "order and apologising.")
    pattern = f"(?s)(?=.*{order[1:]})(?=.*(sorry|apolog|抱歉|对不起|致歉))"
    good = (f"非常抱歉，您的订单 {order} 延误了，我们会补偿您。" if zh else
            f"We are sorry that order {order} was late; we will make it right.")
    bad = "感谢您的来信，祝您愉快。" if zh else "Thanks for writing, have a nice day."
    return _item("customer_service", n, zh, prompt, pattern, "regex"), good, bad


def _summarization(rng: random.Random, n: int, zh: bool) -> Entry:
    company, city = rng.choice(_COMPANIES)
    tokens, cut = rng.randint(2, 90), rng.choice([10, 20, 30, 40])
    if zh:
        text = (f"{city}的 {company} 公司上个月处理了 {tokens} 亿个词元。由于价格下降了 {cut}%，"
                "公司计划增加更多智能体，并在下个季度扩大团队。")
        reference = f"{company} 公司处理了 {tokens} 亿个词元，价格下降 {cut}%，计划扩张。"
        wrong = "天气很好，大家去公园散步。"
    else:
        text = (f"{company}, based in {city}, processed {tokens} billion tokens last month. "
                f"Because prices fell by {cut}%, it plans to add more agents and grow its team "
                "next quarter.")
        reference = (f"{company} processed {tokens} billion tokens; prices fell {cut}%; "
                     "it plans to grow.")
        wrong = "The weather was nice and people walked in the park."
    prompt = (f"用一句话总结：{text}" if zh else f"Summarize in one sentence: {text}")
    return (_item("summarization", n, zh, prompt, reference, "f1", {"threshold": 0.4}),
            reference, wrong)


#: Task class -> (generator, items per language).
_PLAN: dict[str, tuple[Callable[[random.Random, int, bool], Entry], int]] = {
    "math": (_math, 30), "extraction": (_extraction, 25), "qa": (_qa, 25),
    "code": (_code, 20), "translation": (_translation, 25),
    "customer_service": (_customer_service, 20), "summarization": (_summarization, 15),
}


def generate(seed: int = 2026) -> Iterator[Entry]:
    """Every item of the built-in suite with a correct and a wrong answer, in a fixed order."""
    rng = random.Random(seed)
    for make, count in _PLAN.values():
        for zh in (False, True):
            for n in range(count):
                yield make(rng, n, zh)


def write(folder: Path = DATA) -> tuple[Path, Path]:
    """Write the suite and its hidden key into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = list(generate())
    suite = folder / "builtin.jsonl"
    key = folder / "builtin-key.jsonl"
    header = {"suite": "builtin", "version": SUITE_VERSION}
    suite.write_text("\n".join(json.dumps(x, ensure_ascii=False)
                               for x in [header, *(e[0] for e in entries)]) + "\n", "utf-8")
    key.write_text("\n".join(json.dumps(
        {"key": prompt_key(item["prompt"]), "id": item["id"], "task": item["task"],
         "correct": good, "wrong": bad}, ensure_ascii=False)
        for item, good, bad in entries) + "\n", "utf-8")
    return suite, key


if __name__ == "__main__":
    for path in write():
        print(f"wrote {path}")
