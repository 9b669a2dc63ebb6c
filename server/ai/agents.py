"""Seed 003's AI agents: the catalog, routing a question to one agent, offline playbooks, and the event flow.

- ``AGENTS``: six specialists. Each has routing signals (weighted patterns), instructions for an LLM, and a
  playbook for the offline engine (approach, key concepts, pitfalls, tips, topic packs, follow-ups).
- ``route``: keyword/intent scoring over the question (and, weighted less, the context and the last turn of
  history); the best-scoring agent wins with a reason and a confidence. No signal: ``technical`` at 0.6.
- ``offline_answer`` / ``offline_follow_ups``: a structured outline from the playbook, tailored with the
  question's keywords, named technologies, topic packs and the stated seniority. Deterministic.
- ``answer_events``: the documented event sequence (start, routing, processing, content..., answer_complete,
  follow_ups, complete, or error), produced from any ``AIEngine``. The SSE route and the plain JSON route
  both consume it; a consumer that stops early must close it, which abandons the generation.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from server.ai.bank import technical_templates
from server.ai.base import AgentRequest, AIEngine, AIError
from server.ai.skills import detect_seniority, extract_skills, family_of
from server.ai.text import keywords, one_line
from server.logs import log

FALLBACK_AGENT = "technical"
FALLBACK_CONFIDENCE = 0.6
MIN_SCORE = 0.5  # below this, no agent has a real signal: the fallback answers


@dataclass(frozen=True)
class Signal:
    """A pattern that votes for an agent; ``label`` says why in the routing reason."""

    pattern: re.Pattern[str]
    weight: float
    label: str


def _signal(pattern: str, weight: float, label: str) -> Signal:
    return Signal(re.compile(pattern, re.IGNORECASE), weight, label)


@dataclass(frozen=True)
class Topic:
    """Extra concepts and a tip for questions on one topic (``pattern`` matches the question)."""

    pattern: re.Pattern[str]
    name: str
    concepts: tuple[str, ...]
    tip: str


def _topic(pattern: str, name: str, concepts: str, tip: str) -> Topic:
    return Topic(re.compile(pattern, re.IGNORECASE), name, tuple(c.strip() for c in concepts.split(";")), tip)


@dataclass(frozen=True)
class Playbook:
    approach: tuple[str, ...]
    concepts: tuple[str, ...]
    pitfalls: tuple[str, ...]
    tips: tuple[str, ...]
    follow_ups: tuple[str, ...]  # templates with {topic}
    topics: tuple[Topic, ...] = ()


@dataclass(frozen=True)
class Agent:
    id: str
    name: str
    specializations: tuple[str, ...]
    best_for: tuple[str, ...]
    reason: str  # the routing reasoning when this agent wins
    guidance: str  # what the LLM's answer should contain
    signals: tuple[Signal, ...]
    playbook: Playbook
    skill_families: tuple[str, ...] = field(default=())  # named technologies of these families vote too

    def card(self) -> dict[str, Any]:
        """The agent as ``GET /api/agents/available`` lists it."""
        return {
            "id": self.id,
            "name": self.name,
            "specializations": list(self.specializations),
            "best_for": list(self.best_for),
        }


# ---------------------------------------------------------------- the six agents

SYSTEM_DESIGN = Agent(
    id="system_design",
    name="System Design",
    specializations=("Distributed Systems", "Scalability", "Architecture"),
    best_for=("System design interviews", "Architecture questions"),
    reason="Question involves designing a large-scale system",
    guidance=(
        "Structure it as: requirements and scale estimates, API, data model, high-level architecture, deep "
        "dives on the hardest parts, bottlenecks and trade-offs"
    ),
    signals=(
        _signal(
            r"\b(?:design|architect|build)\w*\s+(?:an?\s+|the\s+)?(?:[\w-]+\s+){0,4}"
            r"(?:system|service|platform|architecture|backend|api|pipeline|store|cache|queue|feed|crawler)s?\b",
            3.0,
            "designing a system",
        ),
        _signal(r"\bhow would you (?:design|architect|scale)\b", 2.0, "an open design prompt"),
        _signal(
            r"\b(?:url shorten\w*|tiny ?url|bit\.ly|news ?feed|chat (?:app|system|service)|web crawler|"
            r"rate limiter|key[- ]value store|notification (?:system|service)|ride[- ]sharing|uber|twitter|"
            r"instagram|youtube|netflix|whatsapp|dropbox|google drive|typeahead|autocomplete|parking lot|"
            r"ticketmaster|payment system)\b",
            2.0,
            "a classic system design prompt",
        ),
        _signal(
            r"\b(?:scal(?:e|able|ability|ing)|high availability|fault[- ]toleran\w*|distributed|throughput|"
            r"load balanc\w*|shard\w*|partition\w*|replicat\w*|consistent hashing|cap theorem|microservices?|"
            r"message (?:queue|broker)|kafka|cdn|eventual consistency)\b",
            1.5,
            "scalability concepts",
        ),
        _signal(
            r"\b(?:million|billion|requests per second|qps|rps|petabytes?|terabytes?)\b", 1.0, "scale figures"
        ),
    ),
    playbook=Playbook(
        approach=(
            "Clarify functional requirements (the 3–4 core use cases) and non-functional ones (scale, "
            "latency, availability, consistency) before drawing anything.",
            "Estimate the load: daily users, reads vs writes per second, storage per year, peak factor.",
            "Define the API (main endpoints or RPCs) and the data model (entities, keys, access patterns).",
            "Draw the high-level design: clients, load balancer, stateless services, storage, cache, async "
            "workers; walk one request end to end.",
            "Deep-dive on the hardest one or two parts and name the trade-offs you are choosing.",
            "Finish with bottlenecks, failure modes, monitoring, and how the design evolves at 10x.",
        ),
        concepts=(
            "Horizontal scaling of stateless services behind a load balancer",
            "Caching (what to cache, eviction, invalidation, hit ratio)",
            "Database choice driven by access patterns (SQL vs key-value vs wide-column)",
            "Sharding/partitioning and replication",
            "Consistency vs availability trade-offs (CAP/PACELC)",
            "Asynchronous processing with queues for slow or bursty work",
        ),
        pitfalls=(
            "Jumping into components before agreeing on requirements and scale",
            "No numbers: designs without estimates cannot justify their choices",
            "Naming technologies without saying why they fit the access pattern",
            "Ignoring failure: single points of failure, retries, idempotency, data loss",
        ),
        tips=(
            "Say your assumptions out loud and write them down; the interviewer can correct them early.",
            "Drive the conversation: propose where to deep-dive rather than waiting to be asked.",
            'Always pair a choice with its trade-off ("X gives us A at the cost of B").',
            "Keep an eye on time: high-level design by the halfway mark.",
        ),
        follow_ups=(
            "How would your design for {topic} change at 10x the traffic?",
            "What database would you choose for {topic}, and why?",
            "Where are the single points of failure, and how would you remove them?",
            "How would you implement rate limiting for {topic}?",
            "How would you monitor {topic} and know that it is healthy?",
            "How do you keep the cache consistent with the database?",
        ),
        topics=(
            _topic(
                r"url shorten|tiny ?url|short (?:link|url)",
                "a URL shortener",
                "Short-code generation: base62 of a counter vs hashing; Collision handling and custom "
                "aliases; 301 vs 302 redirects (analytics vs caching); Read-heavy traffic served from cache",
                "Estimate the read:write ratio first (often 100:1) — it drives the caching design.",
            ),
            _topic(
                r"news ?feed|timeline",
                "a news feed",
                "Fan-out on write vs fan-out on read; Hybrid approach for celebrity accounts; "
                "Feed ranking and pagination cursors",
                "Discuss the celebrity (hot user) problem explicitly.",
            ),
            _topic(
                r"chat|messag|whatsapp",
                "a chat system",
                "Persistent connections (WebSockets) and presence; Message ordering and delivery receipts; "
                "Storage partitioned by conversation",
                "Cover offline delivery and multiple devices per user.",
            ),
            _topic(
                r"rate limit",
                "a rate limiter",
                "Token bucket vs sliding window counters; Distributed counters in Redis; "
                "Where to enforce: gateway vs service",
                "Say what happens to a rejected request (429 and Retry-After).",
            ),
            _topic(
                r"cach",
                "a caching layer",
                "Cache-aside vs write-through; Eviction policies (LRU/LFU) and TTLs; "
                "Thundering herd protection",
                "Name what goes stale and how long staleness is acceptable.",
            ),
        ),
    ),
)

TECHNICAL = Agent(
    id="technical",
    name="Technical & Coding",
    specializations=("Algorithms", "Data Structures", "Coding", "Programming Concepts"),
    best_for=("Coding interviews", "Technical concept questions", "Debugging and language questions"),
    reason="Question is about coding, algorithms or a technical concept",
    guidance=(
        "Restate the problem, discuss an approach and its time/space complexity, give clean code or a "
        "precise explanation, cover edge cases and how you would test it"
    ),
    signals=(
        _signal(
            r"\b(?:algorithms?|data structures?|big[- ]?o|time complexity|space complexity|complexity)\b",
            2.5,
            "algorithms and complexity",
        ),
        _signal(
            r"\b(?:write|implement|code)\s+(?:an?\s+|the\s+)?(?:function|program|method|class|algorithm|query|"
            r"solution)\b|\b(?:leetcode|coding (?:question|problem|challenge))\b",
            2.5,
            "a coding task",
        ),
        _signal(
            r"\b(?:arrays?|linked lists?|hash ?maps?|hash tables?|binary (?:search )?trees?|graphs?|heaps?|"
            r"stacks?|tries?|strings?|sort\w*|recursion|recursive|dynamic programming|two pointers|"
            r"sliding window|bfs|dfs|palindromes?|anagrams?)\b",
            1.5,
            "data structures",
        ),
        _signal(
            r"\b(?:concurrency|threads?|async\w*|deadlocks?|race conditions?|memory leaks?|"
            r"garbage collect\w*|object[- ]oriented|oop|design patterns?|solid principles|unit tests?|"
            r"debug\w*|refactor\w*|rest(?:ful)? apis?|http|closures?|generators?|polymorphism|"
            r"inheritance|indexes|transactions?)\b",
            1.5,
            "programming concepts",
        ),
        _signal(r"\b(?:difference between|what is|what are|explain)\b", 0.4, "a concept question"),
    ),
    skill_families=("language", "frontend", "backend", "database", "devops", "mobile", "testing", "cloud"),
    playbook=Playbook(
        approach=(
            "Restate the problem and confirm inputs, outputs and constraints (sizes, ranges, duplicates, "
            "empty input).",
            "Work one small example by hand, then state a brute-force solution and its complexity.",
            "Improve it: name the data structure or technique that removes the bottleneck.",
            "Write clean, well-named code (or give a precise definition for a concept question), narrating "
            "as you go.",
            "Test it on the example and on edge cases; state final time and space complexity.",
        ),
        concepts=(
            "Time and space complexity (Big-O) of each approach",
            "Choosing the right data structure (hash map, heap, stack, tree, graph)",
            "Edge cases: empty input, one element, duplicates, overflow, invalid input",
            "Readable code: small functions, clear names, no hidden state",
            "Testing: examples, boundaries, and a randomized/brute-force cross-check",
        ),
        pitfalls=(
            "Coding before clarifying the problem and constraints",
            "Silent thinking: the interviewer cannot credit reasoning they cannot hear",
            "Forgetting edge cases or never running the code on an example",
            "Over-engineering when a simple approach meets the constraints",
        ),
        tips=(
            "State the brute force first; it shows you can always deliver something correct.",
            "When stuck, try a concrete example, sort the input, or ask what a hash map would buy you.",
            "Leave 5 minutes to test and to discuss complexity.",
            "For concept questions: definition, a concrete example, when to use it, and a trade-off.",
        ),
        follow_ups=(
            "What is the time and space complexity of your approach to {topic}, and can you do better?",
            "How would you test your solution for {topic}? Which edge cases matter most?",
            "How would your approach change if the input did not fit in memory?",
            "What changes if several threads run this code at the same time?",
            "What trade-offs did you make for readability versus performance?",
        ),
        topics=(
            _topic(
                r"linked list",
                "linked lists",
                "Pointer manipulation with a dummy head; Fast/slow pointers for cycles and middles",
                "Draw the pointers before and after each step.",
            ),
            _topic(
                r"\btrees?\b|\bbst\b",
                "trees",
                "Recursive traversals (pre/in/post-order) and BFS; Balanced vs unbalanced height",
                "Define what the recursive function returns before writing it.",
            ),
            _topic(
                r"dynamic programming|\bdp\b|memoi",
                "dynamic programming",
                "State definition and recurrence; Top-down memoization vs bottom-up tables",
                "Write the recurrence in words before coding it.",
            ),
            _topic(
                r"concurren|thread|race|deadlock|async",
                "concurrency",
                "Shared state, locks and atomic operations; Deadlock conditions and lock ordering; "
                "async I/O vs threads vs processes",
                "Give a concrete bug you have seen (or could see) and how you would reproduce it.",
            ),
        ),
    ),
)

BEHAVIORAL = Agent(
    id="behavioral",
    name="Behavioral",
    specializations=("STAR Method", "Leadership", "Teamwork", "Conflict Resolution"),
    best_for=("Behavioral interviews", "Tell me about a time... questions", "Culture-fit questions"),
    reason="Question asks about past behaviour or soft skills",
    guidance=(
        "Use the STAR method (Situation, Task, Action, Result) with a concrete, quantified result and a "
        "reflection on what was learned; keep the candidate's own actions at the centre"
    ),
    signals=(
        _signal(
            r"\b(?:tell me about (?:a time|yourself)|describe a (?:time|situation)|"
            r"give (?:me )?an example of|have you ever|walk me through a time)\b",
            3.0,
            "a past-behaviour prompt",
        ),
        _signal(
            r"\b(?:conflicts?|disagree\w*|failures?|failed|mistakes?|weakness\w*|strengths?|feedback|"
            r"difficult (?:person|colleague|coworker|manager|stakeholder|situation)|teamwork|team player|"
            r"pressure|tight deadlines?|motivat\w*|proud|challenges?|leadership|mentor\w*|ownership|"
            r"persuade\w*|influence\w*)\b",
            1.5,
            "a behavioural theme",
        ),
        _signal(r"\bwhy should we hire you\b|\bgreatest weakness\b", 2.0, "a classic behavioural question"),
    ),
    skill_families=("soft",),
    playbook=Playbook(
        approach=(
            'Pick one specific, recent story where you personally made a difference (not "we usually...").',
            "Situation: one or two sentences of context — team, stakes, constraints.",
            "Task: what you were responsible for and why it was hard.",
            "Action: the steps you took, the decisions and trade-offs, how you worked with others.",
            "Result: a measurable outcome (numbers, dates, feedback) and what you learned or would change.",
        ),
        concepts=(
            "STAR structure (Situation, Task, Action, Result)",
            'Ownership: "I" for your actions, "we" for the team\'s',
            "Quantified impact",
            "Reflection and growth",
            "Collaboration and empathy for the other side",
        ),
        pitfalls=(
            'Hypothetical answers ("I would...") instead of a real example',
            "Spending most of the time on the situation and rushing the actions",
            "Blaming others or hiding your own mistakes",
            "No result, or a result with no numbers",
        ),
        tips=(
            "Prepare 6–8 stories that each cover several themes (conflict, failure, leadership, impact).",
            "Aim for about two minutes; stop and let the interviewer probe.",
            "For failure questions, spend real time on what you changed afterwards.",
            "Match your stories to the company's values or the job description.",
        ),
        follow_ups=(
            "What would you do differently if you faced {topic} again?",
            "How did the other people involved react, and how did you handle it?",
            "What was the measurable outcome, and how did you know it was a success?",
            "What did you learn about yourself from that experience?",
            "Tell me about a time when a similar situation did not go well.",
        ),
        topics=(
            _topic(
                r"conflict|disagree",
                "a conflict",
                "Seek to understand the other view first; Separate the person from the problem; "
                "Agree on shared goals and data to decide",
                "Show the relationship ended in a better place, not just that you won the argument.",
            ),
            _topic(
                r"fail|mistake",
                "a failure",
                "Own it without excuses; Immediate mitigation; Systemic fix so it does not recur",
                "The lesson and the change you made matter more than the failure itself.",
            ),
            _topic(
                r"lead|mentor|influence",
                "leadership",
                "Setting direction and context; Delegation and growing others; Leading without authority",
                "Show how others grew or decided, not only what you did yourself.",
            ),
        ),
    ),
)

PRODUCT_MANAGER = Agent(
    id="product_manager",
    name="Product Manager",
    specializations=("Product Strategy", "Prioritization", "Frameworks"),
    best_for=("Product design questions", "Feature prioritization", "Metrics and product sense"),
    reason="Question is about product sense, strategy, metrics or prioritization",
    guidance=(
        "Clarify the goal, segment users and their pain points, generate and prioritize solutions with a "
        "named framework, define success metrics and guardrails, and summarize the recommendation"
    ),
    signals=(
        _signal(
            r"\bhow would you (?:improve|prioriti[sz]e|measure|launch|monetize|grow)\b",
            2.5,
            "a product case prompt",
        ),
        _signal(
            r"\b(?:favou?rite product|design (?:an?\s+)?(?:[\w-]+\s+){0,3}for\s+\w+|product sense|"
            r"product design)\b",
            2.5,
            "a product design prompt",
        ),
        _signal(
            r"\b(?:products?|features?|roadmaps?|prioriti\w+|user research|personas?|mvp|go[- ]to[- ]market|"
            r"metrics?|kpis?|north star|retention|engagement|churn|a/b tests?|stakeholders?|customers?|"
            r"user needs|pricing|market size|pain points?|trade-?offs? between features)\b",
            1.2,
            "product themes",
        ),
        _signal(
            r"\b(?:rice|kano|moscow|jobs[- ]to[- ]be[- ]done|jtbd|circles method|heart framework)\b",
            2.0,
            "PM frameworks",
        ),
    ),
    playbook=Playbook(
        approach=(
            "Clarify the goal and constraints: which business objective, which platform, what is out of "
            "scope.",
            "Identify the users and segment them; pick one segment to focus on and say why.",
            "List their pain points or needs, then prioritize the most important.",
            "Brainstorm solutions, then prioritize with a framework (RICE, impact vs effort, Kano).",
            "Define success metrics: one north-star metric plus guardrail metrics.",
            "Summarize the recommendation, risks and the first experiment you would run.",
        ),
        concepts=(
            "User segmentation and personas",
            "Prioritization frameworks (RICE, MoSCoW, impact vs effort)",
            "North-star and guardrail metrics",
            "MVP and experimentation (A/B tests)",
            "Trade-offs between user value, business value and engineering cost",
        ),
        pitfalls=(
            "Jumping to features before understanding the user and the goal",
            "Trying to serve every user segment at once",
            "Metrics that cannot be measured or that can be gamed",
            "No clear recommendation at the end",
        ),
        tips=(
            "Think out loud with a visible structure; interviewers grade the process as much as the idea.",
            "Name the framework you use, but adapt it instead of reciting it.",
            "Tie every proposal back to the user pain point and the business goal.",
            "Close with a crisp summary in three sentences.",
        ),
        follow_ups=(
            "How would you measure the success of {topic}?",
            "Which feature would you cut first if engineering capacity halved, and why?",
            "How would you validate demand for {topic} before building it?",
            "What are the risks of {topic}, and how would you mitigate them?",
            "How would you prioritize {topic} against the existing roadmap?",
        ),
        topics=(
            _topic(
                r"metric|measure|kpi|success",
                "metrics",
                "Input vs output metrics; Leading vs lagging indicators; Guardrails against harm",
                "Explain how you would detect that the metric moved for the wrong reason.",
            ),
            _topic(
                r"prioriti",
                "prioritization",
                "RICE scoring (reach, impact, confidence, effort); Opportunity cost; "
                "Saying no to stakeholders",
                "Show the ranked list and the single criterion that decided the top item.",
            ),
        ),
    ),
)

DATA_ML = Agent(
    id="data_ml",
    name="Data Science & ML",
    specializations=("Machine Learning", "Statistics", "Data Engineering", "Experimentation"),
    best_for=("ML and data science interviews", "Statistics and A/B testing questions", "ML system design"),
    reason="Question involves machine learning, statistics or data",
    guidance=(
        "Frame the problem (objective, data, labels), discuss features and model choices with their "
        "trade-offs, evaluation metrics and validation, and deployment/monitoring concerns such as drift"
    ),
    signals=(
        _signal(
            r"\b(?:machine learning|ml|deep learning|neural (?:net|network)s?|overfit\w*|underfit\w*|"
            r"bias[- ]variance|regulari[sz]\w*|gradient descent|feature engineering|classification|"
            r"regression|clustering|precision|recall|f1|auc|roc|cross[- ]validation|embeddings?|"
            r"transformers?|llms?|nlp|computer vision|recommend\w*|training data|model (?:training|drift))\b",
            2.0,
            "machine-learning concepts",
        ),
        _signal(
            r"\b(?:data scien\w*|statistic\w*|hypothesis test\w*|p[- ]values?|confidence intervals?|"
            r"a/b test\w*|sampling|probability|distributions?|etl|data pipelines?|data warehouses?|"
            r"spark|pandas|outliers?|missing data|imbalanced)\b",
            1.5,
            "data and statistics",
        ),
    ),
    skill_families=("data", "ml"),
    playbook=Playbook(
        approach=(
            "Frame the problem: the business objective, the prediction target, and how the output is used.",
            "Describe the data: sources, labels, volume, quality issues, leakage risks.",
            "Propose a simple baseline, then better models; justify choices by data size and latency needs.",
            "Choose evaluation metrics that match the objective and a validation scheme (time-based if "
            "needed).",
            "Cover deployment: serving, monitoring for drift, retraining and feedback loops.",
        ),
        concepts=(
            "Baselines before complex models",
            "Bias-variance trade-off, overfitting and regularization",
            "Metrics that fit the goal (precision/recall, AUC, RMSE, calibration)",
            "Train/validation/test splits and data leakage",
            "Monitoring data and concept drift in production",
        ),
        pitfalls=(
            "Picking a fancy model before defining the objective and the metric",
            "Leakage from the future or from the label into the features",
            "Reporting accuracy on imbalanced data",
            "Forgetting how the model is served, monitored and retrained",
        ),
        tips=(
            "Start with the simplest model that could work and explain what would make you upgrade it.",
            "Tie the offline metric to an online (business) metric and an A/B test.",
            "Mention data quality checks; most real problems are data problems.",
            "Use concrete numbers for data size, latency and expected lift.",
        ),
        follow_ups=(
            "How would you evaluate {topic} offline and online?",
            "How would you detect and handle data drift for {topic}?",
            "What would you do if the classes were heavily imbalanced?",
            "How would you explain the model's predictions to a non-technical stakeholder?",
            "What baseline would you compare {topic} against?",
        ),
        topics=(
            _topic(
                r"overfit|regulari",
                "overfitting",
                "Train vs validation curves; L1/L2 regularization, dropout, early stopping; More data and "
                "simpler models",
                "Describe how you would diagnose it from learning curves first.",
            ),
            _topic(
                r"a/b test|experiment|hypothesis|p[- ]value",
                "experimentation",
                "Randomization unit and sample size (power); Significance vs practical significance; "
                "Peeking and multiple-testing problems",
                "State the null hypothesis and the minimum detectable effect explicitly.",
            ),
            _topic(
                r"recommend",
                "a recommender",
                "Collaborative filtering vs content-based; Candidate generation then ranking; Cold start",
                "Explain how you would handle new users and new items.",
            ),
        ),
    ),
)

CAREER_COACH = Agent(
    id="career_coach",
    name="Career & Negotiation Coach",
    specializations=("Salary Negotiation", "Offer Evaluation", "Career Narrative", "Questions to Ask"),
    best_for=(
        "Salary and offer negotiation",
        "Career gaps and career changes",
        "Questions to ask the interviewer",
    ),
    reason="Question is about compensation, offers or the career story",
    guidance=(
        "Give practical, honest guidance: research, framing, concrete phrasing the candidate can use, "
        "what to avoid saying, and how to handle the likely responses"
    ),
    signals=(
        _signal(
            r"\b(?:salary|salaries|compensation|negotiat\w*|offers?|counter[- ]?offers?|equity|stock options|"
            r"signing bonus|benefits|notice period|relocat\w*|visa)\b",
            2.5,
            "offers and compensation",
        ),
        _signal(
            r"\b(?:resume|cv|cover letter|linkedin|career (?:gap|change|switch|goals?|path)|job search|"
            r"recruiters?|referrals?|laid off|layoffs?|why are you leaving|where do you see yourself|"
            r"questions? (?:to ask|should i ask)|reject\w*|ghosted|follow[- ]up email|thank[- ]you note)\b",
            2.0,
            "the career story and job search",
        ),
    ),
    playbook=Playbook(
        approach=(
            "Get clear on your goal and your walk-away point before the conversation.",
            "Research the market: ranges for the role, level and location from several sources.",
            "Frame your answer around value and fit, not need; keep it short and positive.",
            "Use concrete phrasing, then stop talking and let the other side respond.",
            "Get the outcome in writing and confirm the next steps and dates.",
        ),
        concepts=(
            "Market data and total compensation (base, bonus, equity, benefits)",
            "Anchoring and ranges",
            "Leverage: competing processes, scarce skills, timing",
            "A concise, forward-looking career narrative",
            "Professional, positive tone about past employers",
        ),
        pitfalls=(
            "Naming a number too early without research",
            "Accepting or rejecting on the spot instead of asking for time",
            "Negative comments about a past employer or manager",
            "Negotiating only the base salary and ignoring the rest of the package",
        ),
        tips=(
            "Ask for the offer details in writing and a few days to decide.",
            "Practise your key sentences out loud until they sound natural.",
            "Tie every request to your value to the team, not to personal need.",
            "Prepare 3–5 thoughtful questions for the interviewer about the team, the work and success.",
        ),
        follow_ups=(
            "What is your walk-away number, and how did you arrive at it?",
            "How would you respond if the recruiter says the budget is fixed?",
            "Which parts of the package besides base salary matter most to you?",
            "How would you sum up {topic} in two sentences to a hiring manager?",
            "What questions will you ask the hiring manager about the role?",
        ),
        topics=(
            _topic(
                r"salary|compensation|negotiat|offer",
                "the offer",
                "Total compensation comparison; Counter-offer in one clear ask; Non-salary levers (title, "
                "start date, remote days, learning budget)",
                "Thank them, express enthusiasm, then make one specific, justified ask.",
            ),
            _topic(
                r"gap|laid off|layoff|career change|switch",
                "a career gap or change",
                "A brief, honest reason; What you did or learned meanwhile; "
                "Why this role is the logical next step",
                "Spend 20% of the answer on the past and 80% on why you fit this role now.",
            ),
        ),
    ),
)

AGENTS: dict[str, Agent] = {
    agent.id: agent
    for agent in (PRODUCT_MANAGER, SYSTEM_DESIGN, TECHNICAL, BEHAVIORAL, DATA_ML, CAREER_COACH)
}
AGENT_IDS = tuple(AGENTS)


def catalog() -> list[dict[str, Any]]:
    return [agent.card() for agent in AGENTS.values()]


# ---------------------------------------------------------------- routing


@dataclass(frozen=True)
class Routing:
    selected_agent: str
    reasoning: str
    confidence: float
    scores: dict[str, float]

    def public(self) -> dict[str, Any]:
        return {
            "selected_agent": self.selected_agent,
            "reasoning": self.reasoning,
            "confidence": self.confidence,
        }


def _score(agent: Agent, text: str, skills: list[str]) -> tuple[float, list[str]]:
    total, labels = 0.0, []
    for signal in agent.signals:
        if signal.pattern.search(text):
            total += signal.weight
            labels.append(signal.label)
    named = [skill for skill in skills if family_of(skill) in agent.skill_families]
    if named:
        total += 1.0
        labels.append("named technology: " + ", ".join(named[:3]))
    return total, labels


def _scores(texts: list[tuple[str, float]]) -> tuple[dict[str, float], dict[str, list[str]]]:
    scores = dict.fromkeys(AGENTS, 0.0)
    labels: dict[str, list[str]] = {agent_id: [] for agent_id in AGENTS}
    for text, weight in texts:
        if not text.strip():
            continue
        skills = extract_skills(text)
        for agent in AGENTS.values():
            score, found = _score(agent, text, skills)
            scores[agent.id] += weight * score
            labels[agent.id] += [label for label in found if label not in labels[agent.id]]
    return scores, labels


def confidence(top: float, second: float) -> float:
    """Grows with the winning score and with its margin over the runner-up; between 0.5 and 0.98."""
    strength = 1 - math.exp(-top / 2.5)
    margin = (top - second) / top if top > 0 else 0.0
    return round(min(0.98, 0.5 + 0.3 * strength + 0.18 * margin), 2)


def route(question: str, context: str = "", recent: str = "", preferred: str | None = None) -> Routing:
    """Pick the agent for ``question``; the context and the recent history count for less (0.3 each)."""
    if preferred in AGENTS:
        return Routing(preferred, f"Requested the {AGENTS[preferred].name} agent", 1.0, {})
    scores, labels = _scores([(question, 1.0), (context, 0.3), (recent, 0.3)])
    ranked = sorted(AGENTS, key=lambda agent_id: -scores[agent_id])  # stable: catalog order breaks ties
    best, runner_up = ranked[0], ranked[1]
    if scores[best] < MIN_SCORE:
        return Routing(
            FALLBACK_AGENT,
            "No strong signal for a specialist; the technical agent handles general questions",
            FALLBACK_CONFIDENCE,
            scores,
        )
    reasoning = f"{AGENTS[best].reason} (signals: {'; '.join(labels[best][:3])})"
    return Routing(best, reasoning, confidence(scores[best], scores[runner_up]), scores)


# ---------------------------------------------------------------- offline playbook answers


def _digest(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def _topics(agent: Agent, question: str) -> list[Topic]:
    return [topic for topic in agent.playbook.topics if topic.pattern.search(question)]


# Words that ``keywords`` keeps but that say nothing about a question's subject.
GENERIC_WORDS = frozenset(
    """should would could after before receiving receive received improve design designing build building
    explain describe handle make doing does want need think best good new better ever really difference
    between""".split()
)


def focus_terms(question: str) -> list[str]:
    """The question's subject words, in order (keywords without generic verbs and adverbs)."""
    return [word for word in keywords(question) if word.lower() not in GENERIC_WORDS]


def topic_phrase(agent: Agent, question: str) -> str:
    """A short name for what the question is about (a topic pack's name, else its first subject words)."""
    found = _topics(agent, question)
    if found:
        return found[0].name
    words = focus_terms(question)[:3]
    return " ".join(words) if words else "this"


def _tech_concepts(question: str) -> list[str]:
    """Key concepts for each technology the question names (from the offline question bank)."""
    lines = []
    for skill in extract_skills(question)[:3]:
        templates = technical_templates(skill)
        if templates:
            lines.append(f"For {skill}: {', '.join(templates[0].concepts[:4])}")
    return lines


def _seniority_tip(context: str) -> str | None:
    level = detect_seniority(context).level if context.strip() else None
    if level in ("senior", "lead", "principal"):
        return (
            f"At {level} level, lead with trade-offs, risks and the decisions you would drive; "
            "show how you would bring others along."
        )
    if level in ("intern", "junior"):
        return f"At {level} level, show sound fundamentals and how you learn; say what you would ask."
    return None


def _section(title: str, items: list[str], numbered: bool = False) -> str:
    lines = [f"{index}. {item}" if numbered else f"- {item}" for index, item in enumerate(items, 1)]
    return f"**{title}**\n" + "\n".join(lines)


def offline_answer(request: AgentRequest) -> str:
    """A structured answer outline for the question from its agent's playbook (Markdown, deterministic)."""
    agent = AGENTS.get(request.agent_id, TECHNICAL)
    book = agent.playbook
    topics = _topics(agent, request.question)
    focus = focus_terms(request.question)[:6]
    concepts = [c for topic in topics for c in topic.concepts] or _tech_concepts(request.question)
    concepts += list(book.concepts)
    tips = [topic.tip for topic in topics] + [tip for tip in (_seniority_tip(request.context),) if tip]
    tips += list(book.tips)
    intro = f"**{agent.name} playbook** for: \u201c{one_line(request.question, 200)}\u201d"
    if focus:
        intro += f"\n\nAnchor your answer on the question's key terms: {', '.join(focus)}."
    parts = [
        intro,
        _section("Approach", list(book.approach), numbered=True),
        _section("Key concepts to cover", concepts[:9]),
        _section("Common pitfalls", list(book.pitfalls)),
        _section("Tips", tips[:6]),
    ]
    return "\n\n".join(parts) + "\n"


def offline_follow_ups(request: AgentRequest, count: int = 3) -> list[str]:
    """``count`` follow-up questions from the agent's templates, chosen by a hash of the question."""
    agent = AGENTS.get(request.agent_id, TECHNICAL)
    templates = agent.playbook.follow_ups
    topic = topic_phrase(agent, request.question)
    start = _digest(request.question) % len(templates)
    picked = [templates[(start + offset) % len(templates)] for offset in range(min(count, len(templates)))]
    return [template.format(topic=topic) for template in picked]


def chunks(text: str, size: int = 120) -> list[str]:
    """``text`` in pieces of at most ``size`` characters, cut at line or word ends (joined: ``text``)."""
    pieces: list[str] = []
    for line in text.splitlines(keepends=True):
        while len(line) > size:
            cut = line.rfind(" ", 0, size) + 1 or size
            pieces.append(line[:cut])
            line = line[cut:]
        if line:
            pieces.append(line)
    return pieces


# ---------------------------------------------------------------- the event flow


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def event(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """One event as the documents show it: ``{"event_type", "timestamp", "data"}``."""
    return {"event_type": event_type, "timestamp": now(), "data": data}


def _counts(answer: str) -> dict[str, int]:
    return {"word_count": len(answer.split()), "character_count": len(answer)}


async def _follow_ups(engine: AIEngine, request: AgentRequest, answer: str) -> list[str]:
    """The engine's follow-ups; the playbook's when the provider fails (the answer is already out)."""
    try:
        return (await engine.agent_follow_ups(request, answer)).questions[:3]
    except AIError as exc:
        log.warning("ai.agent_follow_ups_failed", agent=request.agent_id, error=str(exc))
        return offline_follow_ups(request)


async def answer_events(
    engine: AIEngine, request: AgentRequest, routing: Routing
) -> AsyncGenerator[dict[str, Any], None]:
    """The documented event sequence for one question; ends after ``complete`` or ``error``.

    ``answer_complete`` also carries ``agent``, ``provider`` and ``model``. A failure of the provider
    (``AIError``) or a bug ends the stream with an ``error`` event that exposes no internals.
    """
    agent = routing.selected_agent
    yield event("start", {"message": "Processing question...", "question": request.question})
    yield event("routing", routing.public())
    yield event("processing", {"message": f"Processing with {agent} agent...", "agent": agent})
    parts: list[str] = []
    provider, model = "", None
    try:
        async with aclosing(engine.stream_agent_answer(request)) as stream:
            async for delta in stream:
                parts.append(delta.text)
                provider, model = delta.provider, delta.model
                yield event("content", {"chunk": delta.text, "is_final": False})
        yield event("content", {"chunk": "", "is_final": True})
        answer = "".join(parts)
        meta = {"agent": agent, "provider": provider, "model": model}
        yield event("answer_complete", {"full_answer": answer, **_counts(answer), **meta})
        yield event("follow_ups", {"questions": await _follow_ups(engine, request, answer)})
        yield event("complete", {"message": "Processing complete", "agent_used": agent, "success": True})
    except AIError as exc:
        log.warning("ai.agent_answer_failed", agent=agent, engine=engine.name, error=str(exc))
        yield event("error", _error(agent, "The AI provider failed while answering; please try again"))
    except Exception as exc:  # a bug: log it, tell the client only that it failed
        log.error("ai.agent_answer_error", agent=agent, error_type=type(exc).__name__, exc_info=exc)
        yield event("error", _error(agent, "Error processing the question"))


def _error(agent: str, message: str) -> dict[str, Any]:
    return {"message": message, "agent": agent, "success": False}
