"""A curated skills lexicon and the extraction of skills and seniority from free text (no network, no ML).

Matching is case-insensitive on word boundaries, except for the few ``exact`` aliases that are ordinary
English words in lower case ("Go", "Swift", "Spring"), which only match as written.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache

Family = str  # language | frontend | backend | database | cloud | devops | data | ml | mobile | testing
#               | security | practice | soft | general


@dataclass(frozen=True)
class Skill:
    name: str
    family: Family
    aliases: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()  # case-sensitive aliases

    @property
    def technical(self) -> bool:
        return self.family != "soft"


def _s(name: str, family: Family, *aliases: str, exact: tuple[str, ...] = ()) -> Skill:
    return Skill(name, family, aliases, exact)


LEXICON: tuple[Skill, ...] = (
    # Languages
    _s("Python", "language", "python3", "py"),
    _s("JavaScript", "language", "js", "ecmascript", "es6", "vanilla js"),
    _s("TypeScript", "language", "ts"),
    _s("Java", "language", "java se", "java ee", "jvm"),
    _s("Kotlin", "language"),
    _s("C#", "language", "csharp", "c sharp"),
    _s("C++", "language", "cpp", "cplusplus", "c plus plus"),
    _s("C", "language", "ansi c", "embedded c", "c99", "c11", exact=("C",)),
    _s("Go", "language", "golang", exact=("Go",)),
    _s("Rust", "language"),
    _s("Ruby", "language"),
    _s("PHP", "language"),
    _s("Scala", "language"),
    _s("Swift", "language", "swiftui", exact=("Swift",)),
    _s("Objective-C", "language", "objective c", "objc"),
    _s("R", "language", "r language", "r programming", "rstudio", "tidyverse", "ggplot2"),
    _s("MATLAB", "language"),
    _s("Perl", "language"),
    _s("Elixir", "language"),
    _s("Haskell", "language"),
    _s("Dart", "language"),
    _s("Bash", "language", "shell scripting", "shell script", "zsh", "sh scripting"),
    _s("PowerShell", "language"),
    _s("SQL", "database", "t-sql", "tsql", "pl/sql", "plsql", "sql queries"),
    # Frontend
    _s("React", "frontend", "react.js", "reactjs", "react js", "react hooks"),
    _s("Angular", "frontend", "angularjs", "angular.js"),
    _s("Vue.js", "frontend", "vue", "vuejs", "vue js", "nuxt", "nuxt.js"),
    _s("Svelte", "frontend", "sveltekit"),
    _s("Next.js", "frontend", "nextjs", "next js"),
    _s("HTML", "frontend", "html5"),
    _s("CSS", "frontend", "css3", "scss", "sass", "less css"),
    _s("Tailwind CSS", "frontend", "tailwind", "tailwindcss"),
    _s("Redux", "frontend", "redux toolkit", "rtk"),
    _s("Webpack", "frontend", "vite", "rollup", "esbuild"),
    _s("jQuery", "frontend"),
    _s("Accessibility", "frontend", "a11y", "wcag"),
    # Backend
    _s("Node.js", "backend", "nodejs", "node js"),
    _s("Express", "backend", "express.js", "expressjs"),
    _s("NestJS", "backend", "nest.js"),
    _s("Django", "backend", "django rest framework", "drf"),
    _s("Flask", "backend"),
    _s("FastAPI", "backend", "fast api"),
    _s("Spring Boot", "backend", "spring framework", "spring mvc", "springboot"),
    _s(".NET", "backend", "dotnet", "asp.net", ".net core", "asp.net core"),
    _s("Ruby on Rails", "backend", "rails", "ror"),
    _s("Laravel", "backend"),
    _s("GraphQL", "backend", "apollo"),
    _s(
        "REST APIs",
        "backend",
        "restful",
        "rest api",
        "restful api",
        "restful apis",
        "openapi",
        exact=("REST",),
    ),
    _s("gRPC", "backend", "protobuf", "protocol buffers"),
    _s("Microservices", "backend", "microservice", "micro-services", "service oriented architecture", "soa"),
    _s("WebSockets", "backend", "websocket", "socket.io"),
    _s("Kafka", "backend", "apache kafka"),
    _s("RabbitMQ", "backend", "amqp"),
    _s("Celery", "backend"),
    # Databases
    _s("PostgreSQL", "database", "postgres", "postgresql", "psql", "pg"),
    _s("MySQL", "database", "mariadb"),
    _s("SQLite", "database"),
    _s("SQL Server", "database", "mssql", "ms sql", "microsoft sql server"),
    _s("Oracle Database", "database", "oracle db", "oracle"),
    _s("MongoDB", "database", "mongo", "mongoose"),
    _s("Redis", "database"),
    _s("Cassandra", "database", "apache cassandra", "scylladb"),
    _s("DynamoDB", "database", "dynamo db"),
    _s("Elasticsearch", "database", "elastic search", "opensearch", "elk"),
    _s("Neo4j", "database", "graph database"),
    _s("Firebase", "database", "firestore"),
    _s("ORM", "database", "sqlalchemy", "hibernate", "prisma", "sequelize", "entity framework"),
    # Cloud
    _s("AWS", "cloud", "amazon web services", "ec2", "s3", "aws lambda", "cloudformation"),
    _s("Azure", "cloud", "microsoft azure", "azure devops"),
    _s("GCP", "cloud", "google cloud", "google cloud platform", "gke"),
    _s("Serverless", "cloud", "lambda functions", "cloud functions", "azure functions"),
    _s("Heroku", "cloud"),
    # DevOps
    _s(
        "Docker",
        "devops",
        "containers",
        "containerization",
        "containerisation",
        "dockerfile",
        "docker compose",
    ),
    _s("Kubernetes", "devops", "k8s", "kubectl", "eks", "aks", "openshift"),
    _s("Helm", "devops", "helm charts"),
    _s("Terraform", "devops", "infrastructure as code", "iac", "pulumi"),
    _s("Ansible", "devops", "chef", "puppet"),
    _s("CI/CD", "devops", "ci cd", "continuous integration", "continuous delivery", "continuous deployment"),
    _s("Jenkins", "devops"),
    _s("GitHub Actions", "devops", "github workflows"),
    _s("GitLab CI", "devops", "gitlab ci/cd", "gitlab pipelines"),
    _s("Git", "devops", "github", "gitlab", "bitbucket", "version control"),
    _s("Linux", "devops", "unix", "ubuntu", "debian", "centos", "rhel"),
    _s("Nginx", "devops", "apache httpd", "reverse proxy"),
    _s("Prometheus", "devops", "alertmanager"),
    _s("Grafana", "devops"),
    _s(
        "Observability", "devops", "monitoring", "logging", "tracing", "opentelemetry", "datadog", "new relic"
    ),
    _s("Site Reliability", "devops", "sre", "site reliability engineering", "incident response", "on-call"),
    # Data engineering and analytics
    _s("Pandas", "data", "dataframes"),
    _s("NumPy", "data", "numpy"),
    _s("Apache Spark", "data", "spark", "pyspark", "spark sql"),
    _s("Hadoop", "data", "hdfs", "hive", "mapreduce"),
    _s("Airflow", "data", "apache airflow", "dagster", "prefect"),
    _s("dbt", "data", "data build tool"),
    _s("ETL", "data", "elt", "data pipelines", "data pipeline", "data ingestion"),
    _s("Data Warehousing", "data", "data warehouse", "data lake", "lakehouse", "dimensional modeling"),
    _s("Snowflake", "data"),
    _s("BigQuery", "data", "big query"),
    _s("Redshift", "data", "amazon redshift"),
    _s("Databricks", "data"),
    _s("Tableau", "data"),
    _s("Power BI", "data", "powerbi"),
    _s("Excel", "data", "spreadsheets", "vlookup", "pivot tables"),
    _s("Data Analysis", "data", "data analytics", "exploratory data analysis", "eda", "analytics"),
    _s(
        "Statistics",
        "data",
        "statistical analysis",
        "hypothesis testing",
        "a/b testing",
        "regression analysis",
    ),
    _s("Data Visualization", "data", "data visualisation", "matplotlib", "seaborn", "plotly", "d3.js"),
    # Machine learning
    _s("Machine Learning", "ml", "ml", "predictive modeling", "predictive modelling", "supervised learning"),
    _s("Deep Learning", "ml", "neural networks", "neural network", "cnn", "rnn", "transformers"),
    _s("scikit-learn", "ml", "sklearn", "scikit learn"),
    _s("TensorFlow", "ml", "tf2"),
    _s("PyTorch", "ml", "torch"),
    _s("Keras", "ml"),
    _s("NLP", "ml", "natural language processing", "text mining", "spacy", "nltk"),
    _s("Computer Vision", "ml", "opencv", "image recognition", "object detection"),
    _s("LLMs", "ml", "llm", "large language models", "generative ai", "genai", "rag", "prompt engineering"),
    _s("MLOps", "ml", "ml ops", "mlflow", "kubeflow", "model deployment"),
    _s("XGBoost", "ml", "lightgbm", "gradient boosting"),
    # Mobile
    _s("Android", "mobile", "android sdk", "jetpack compose"),
    _s("iOS", "mobile", "uikit", "xcode"),
    _s("React Native", "mobile", "react-native"),
    _s("Flutter", "mobile"),
    # Testing
    _s("Unit Testing", "testing", "unit tests", "tdd", "test driven development", "test-driven development"),
    _s("pytest", "testing", "py.test"),
    _s("JUnit", "testing", "testng", "mockito"),
    _s("Jest", "testing", "vitest", "mocha", "react testing library"),
    _s("Selenium", "testing", "webdriver"),
    _s("Cypress", "testing", "playwright"),
    _s("Test Automation", "testing", "automated testing", "qa automation", "end-to-end testing", "e2e tests"),
    _s("Performance Testing", "testing", "load testing", "jmeter", "locust", "k6"),
    # Security
    _s("Application Security", "security", "owasp", "secure coding", "appsec", "penetration testing"),
    _s("OAuth", "security", "oauth2", "oauth 2.0", "openid connect", "oidc", "jwt", "sso"),
    _s("Cryptography", "security", "encryption", "tls", "ssl", "pki"),
    _s("Network Security", "security", "firewalls", "siem", "ids/ips", "vpn"),
    # Engineering practice
    _s("System Design", "practice", "systems design", "software architecture", "architecture design"),
    _s("Distributed Systems", "practice", "distributed computing", "scalability", "high availability"),
    _s("Data Structures", "practice", "algorithms", "data structures and algorithms", "dsa"),
    _s(
        "Object-Oriented Design",
        "practice",
        "oop",
        "object oriented programming",
        "design patterns",
        exact=("SOLID",),
    ),
    _s("Caching", "practice", "cdn", "memcached"),
    _s("Concurrency", "practice", "multithreading", "multi-threading", "async programming", "asyncio"),
    _s("Debugging", "practice", "troubleshooting", "root cause analysis"),
    _s("Code Review", "practice", "code reviews", "pull requests"),
    _s("Agile", "practice", "scrum", "kanban", "sprint planning", "jira"),
    # Soft skills
    _s("Communication", "soft", "communication skills", "written communication", "verbal communication"),
    _s("Leadership", "soft", "team lead", "leading teams", "led a team", "people management"),
    _s("Teamwork", "soft", "collaboration", "team player", "cross-functional", "cross functional"),
    _s("Problem Solving", "soft", "problem-solving", "analytical skills", "critical thinking"),
    _s("Mentoring", "soft", "mentorship", "mentored", "coaching"),
    _s("Stakeholder Management", "soft", "stakeholders", "client facing", "client-facing"),
    _s("Time Management", "soft", "prioritization", "prioritisation", "deadlines"),
    _s("Ownership", "soft", "accountability", "self-starter", "self starter", "proactive"),
    _s("Adaptability", "soft", "fast learner", "quick learner", "willingness to learn"),
    _s("Project Management", "soft", "project planning", "roadmap", "delivery management"),
)

BY_NAME: dict[str, Skill] = {skill.name.lower(): skill for skill in LEXICON}
ALIASES: dict[str, str] = {
    alias.lower(): skill.name for skill in LEXICON for alias in (skill.name, *skill.aliases, *skill.exact)
}

# Role keywords → the skills a role of that kind is usually asked about (used when the inputs are thin).
ROLE_DEFAULTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("machine learning", ("Machine Learning", "Python", "Statistics", "MLOps")),
    ("ml engineer", ("Machine Learning", "Python", "MLOps", "Deep Learning")),
    ("data scien", ("Machine Learning", "Statistics", "Python", "SQL")),
    ("data engineer", ("SQL", "ETL", "Apache Spark", "Airflow")),
    ("data analyst", ("SQL", "Data Analysis", "Excel", "Data Visualization")),
    ("devops", ("Docker", "Kubernetes", "CI/CD", "Linux")),
    ("sre", ("Site Reliability", "Kubernetes", "Observability", "Linux")),
    ("reliability", ("Site Reliability", "Observability", "Linux", "Kubernetes")),
    ("cloud", ("AWS", "Terraform", "Docker", "Kubernetes")),
    ("frontend", ("JavaScript", "React", "CSS", "Accessibility")),
    ("front-end", ("JavaScript", "React", "CSS", "Accessibility")),
    ("front end", ("JavaScript", "React", "CSS", "Accessibility")),
    ("backend", ("REST APIs", "SQL", "System Design", "Caching")),
    ("back-end", ("REST APIs", "SQL", "System Design", "Caching")),
    ("back end", ("REST APIs", "SQL", "System Design", "Caching")),
    ("full stack", ("JavaScript", "REST APIs", "SQL", "React")),
    ("fullstack", ("JavaScript", "REST APIs", "SQL", "React")),
    ("full-stack", ("JavaScript", "REST APIs", "SQL", "React")),
    ("android", ("Android", "Kotlin", "Unit Testing", "REST APIs")),
    ("ios", ("iOS", "Swift", "Unit Testing", "REST APIs")),
    ("mobile", ("React Native", "Flutter", "REST APIs", "Unit Testing")),
    ("qa", ("Test Automation", "Unit Testing", "Selenium", "Performance Testing")),
    ("test", ("Test Automation", "Unit Testing", "Performance Testing", "CI/CD")),
    ("security", ("Application Security", "Cryptography", "Network Security", "OAuth")),
    ("analyst", ("Data Analysis", "SQL", "Excel", "Statistics")),
)
GENERIC_DEFAULTS: tuple[str, ...] = ("Data Structures", "System Design", "Debugging", "Unit Testing")

SENIORITY_LEVELS: tuple[str, ...] = ("intern", "junior", "mid", "senior", "lead", "principal")

_TITLE_NOUNS = (
    r"(?:engineer|developer|programmer|analyst|scientist|consultant|designer|architect|manager|administrator"
    r"|specialist|tester|devops|sre|dev)"
)
_TITLE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (level, re.compile(pattern, re.IGNORECASE))
    for level, pattern in (
        ("principal", rf"\b(?:principal|distinguished|chief)\s+(?:[a-z.+#-]+\s+){{0,2}}{_TITLE_NOUNS}"),
        ("principal", r"\b(?:head of engineering|cto|vp of engineering)\b"),
        ("lead", rf"\b(?:lead|staff|tech lead)\s+(?:[a-z.+#-]+\s+){{0,2}}{_TITLE_NOUNS}"),
        ("lead", rf"\b{_TITLE_NOUNS}\s+lead\b|\bteam lead\b|\btechnical lead\b|\bengineering manager\b"),
        ("senior", rf"\b(?:senior|sr\.?)\s+(?:[a-z.+#-]+\s+){{0,2}}{_TITLE_NOUNS}"),
        (
            "junior",
            rf"\b(?:junior|jr\.?|associate|entry[- ]level|graduate)\s+(?:[a-z.+#-]+\s+){{0,2}}{_TITLE_NOUNS}",
        ),
        ("intern", r"\b(?:intern|internship|trainee|apprentice)\b"),
    )
)
_YEARS = re.compile(
    r"\b(\d{1,2})(?:\.\d)?\s*\+?\s*(?:-\s*\d{1,2}\s*)?(?:years?|yrs?)\b(?:\s+of)?(?:\s+[\w+#./-]+){0,3}?\s+"
    r"(?:experience|exp\b|in\s+(?:the\s+)?industry|professional)",
    re.IGNORECASE,
)
_YEARS_AFTER = re.compile(r"\bexperience\s*(?:of|:)\s*(\d{1,2})\s*\+?\s*(?:years?|yrs?)\b", re.IGNORECASE)
_YEARS_BARE = re.compile(r"\b(\d{1,2})\s*\+\s*(?:years?|yrs?)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Seniority:
    level: str | None  # one of SENIORITY_LEVELS, or None without evidence
    years: int | None
    evidence: tuple[str, ...] = field(default=())

    @property
    def rank(self) -> int | None:
        return None if self.level is None else SENIORITY_LEVELS.index(self.level)


def _alias_pattern(alias: str) -> str:
    body = re.escape(alias).replace(r"\ ", r"[\s_-]+")
    return rf"(?<![\w+#@.-]){body}(?![\w+#-]|\.\w)"


@cache
def _pattern(skill: Skill) -> re.Pattern[str]:
    names = {skill.name.lower(), *(alias.lower() for alias in skill.aliases)} - {
        a.lower() for a in skill.exact
    }
    if len(skill.name) == 1:  # "R": only through its longer aliases
        names.discard(skill.name.lower())
    ordered = sorted(names, key=len, reverse=True)
    insensitive = "|".join(_alias_pattern(alias) for alias in ordered) or r"(?!x)x"
    exact = "|".join(_alias_pattern(alias) for alias in skill.exact)
    if exact:
        return re.compile(rf"(?i:{insensitive})|{exact}")
    return re.compile(insensitive, re.IGNORECASE)


def _maybe_present(skill: Skill, text: str, lowered: str) -> bool:
    """A cheap substring pre-check so the word-boundary regex only runs for skills that may be there."""
    if any(alias in text for alias in skill.exact):
        return True
    return any(_first_word(alias) in lowered for alias in (skill.name.lower(), *skill.aliases))


@cache
def _first_word(alias: str) -> str:
    return alias.lower().split()[0]


_GO_VERB = re.compile(r"\bGo(?=\s+(?:to|ahead|back|through|on|over|for|with|into|beyond|live)\b)")


def count_skills(text: str) -> Counter[str]:
    """How many times each lexicon skill is mentioned in ``text`` (canonical names)."""
    counts: Counter[str] = Counter()
    if not text:
        return counts
    lowered = text.lower()
    for skill in LEXICON:
        if not _maybe_present(skill, text, lowered):
            continue
        hits = len(_pattern(skill).findall(text))
        if skill.name == "Go":
            hits -= len(_GO_VERB.findall(text))
        if hits > 0:
            counts[skill.name] = hits
    return counts


def extract_skills(text: str) -> list[str]:
    """Canonical skill names mentioned in ``text``, in order of first mention."""
    counts = count_skills(text)
    positions: dict[str, int] = {}
    for name in counts:
        match = _pattern(BY_NAME[name.lower()]).search(text)
        positions[name] = match.start() if match else len(text)
    return sorted(counts, key=lambda name: (positions[name], name))


def canonical(name: str) -> str:
    """The lexicon name for a free-form skill (``"k8s"`` → ``"Kubernetes"``), else the input tidied."""
    cleaned = " ".join(name.split())
    if cleaned.lower() in ALIASES:
        return ALIASES[cleaned.lower()]
    found = extract_skills(cleaned)
    if len(found) == 1 and len(cleaned) <= len(found[0]) + 12:
        return found[0]
    return cleaned


def family_of(name: str) -> Family:
    skill = BY_NAME.get(name.lower())
    return skill.family if skill else "general"


def is_technical(name: str) -> bool:
    return family_of(name) != "soft"


def role_defaults(role_text: str) -> tuple[str, ...]:
    """Skills usually asked about for a role title ("Senior Data Engineer" → SQL, ETL, ...)."""
    lowered = f" {role_text.lower()} "
    for keyword, skills in ROLE_DEFAULTS:
        if re.search(rf"(?<![a-z]){re.escape(keyword)}", lowered):
            return skills
    return GENERIC_DEFAULTS


def years_of_experience(text: str) -> int | None:
    """The largest plausible "N years of experience" figure in ``text``."""
    found = [int(m.group(1)) for regex in (_YEARS, _YEARS_AFTER, _YEARS_BARE) for m in regex.finditer(text)]
    plausible = [years for years in found if 0 < years <= 45]
    return max(plausible) if plausible else None


def _level_from_years(years: int) -> str:
    if years < 2:
        return "junior"
    if years < 5:
        return "mid"
    return "senior"


def detect_seniority(text: str) -> Seniority:
    """Seniority from titles (senior, lead, principal, junior, intern) and years of experience: the higher."""
    years = years_of_experience(text)
    candidates: list[tuple[int, str]] = []
    evidence: list[str] = []
    if years is not None:
        candidates.append((SENIORITY_LEVELS.index(_level_from_years(years)), f"{years} years of experience"))
    for level, pattern in _TITLE_PATTERNS:
        match = pattern.search(text)
        if match:
            candidates.append((SENIORITY_LEVELS.index(level), f"title: {' '.join(match.group(0).split())}"))
    if not candidates:
        return Seniority(None, None)
    rank, _ = max(candidates)
    evidence = [note for level_rank, note in sorted(candidates, reverse=True) if level_rank == rank]
    return Seniority(SENIORITY_LEVELS[rank], years, tuple(evidence))
