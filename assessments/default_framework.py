"""The default customer-obsession framework every organization starts with.

Six levels, from not caring about customers (LV.0) to changing their lives in ways
they could not have asked for (LV.5). The texts are our own; organizations edit
them freely after they are created.
"""

from __future__ import annotations

DEFAULT_FRAMEWORK_KEY = "customer-obsession"

DEFAULT_FRAMEWORK = {
    "key": DEFAULT_FRAMEWORK_KEY,
    "name_ko": "고객 집착 레벨",
    "name_en": "Customer obsession levels",
    "description_ko": (
        "고객을 얼마나 깊이 이해하고, 그 이해를 실제 결정과 행동으로 옮기는지를 여섯 단계로 봅니다. "
        "레벨은 교육만으로 오르지 않습니다. 현장에서 직접 해 보고, 돌아보고, 빠르게 고치는 경험이 쌓일 때 오릅니다."
    ),
    "description_en": (
        "Six steps that describe how deeply someone understands their customers and how much that "
        "understanding shapes what they decide and do. Levels rise through practice in the field, "
        "honest retrospectives and quick improvement, not through lectures alone."
    ),
}

# (number, name_ko, name_en, description_ko, description_en, [(indicator_ko, indicator_en), ...])
DEFAULT_LEVELS = [
    (
        0,
        "고객 무관심",
        "Indifference",
        "고객은 관심 밖에 있습니다. 자기 일을 끝내는 것, 자기 생각이 옳다는 것이 고객의 경험보다 앞섭니다.",
        "Customers are out of view. Finishing one's own tasks and proving one's own ideas matter more than "
        "what the customer goes through.",
        [
            (
                "고객의 불편이나 불만을 들어도 흘려보내거나 귀찮은 일로 여긴다.",
                "Treats complaints and friction reported by customers as noise or a nuisance.",
            ),
            (
                "사용자를 만나거나 시험해 보지 않고 제품과 서비스를 정한다.",
                "Decides what to build without meeting or testing with any users.",
            ),
            (
                "고객과 오래 가는 관계보다 당장의 매출이나 편의를 고른다.",
                "Chooses short-term revenue or convenience over a lasting relationship with customers.",
            ),
        ],
    ),
    (
        1,
        "니즈 인식",
        "Aware of needs",
        "고객이 무엇을 원하는지는 알고 있고 자료도 모읍니다. 하지만 비용, 일정, 내부 사정이 늘 먼저이고 "
        "알게 된 것이 결정으로 이어지지 않습니다.",
        "Knows what customers ask for and may even collect feedback, but cost, schedule and internal "
        "opinions win every time, and what was learned rarely changes a decision.",
        [
            (
                "설문이나 인터뷰를 하지만 그 결과로 바뀐 것이 거의 없다.",
                "Runs surveys or interviews, yet little changes because of them.",
            ),
            (
                "외부 검증 없이 팀 안의 짐작으로 방향을 정한다.",
                "Sets direction from the team's own guesses instead of outside evidence.",
            ),
            (
                "고객보다 내부 이해관계자의 요구를 먼저 챙긴다.",
                "Puts internal stakeholders' wishes ahead of the customer's.",
            ),
        ],
    ),
    (
        2,
        "고객 경험 고려",
        "Consideration",
        "결정을 내릴 때 고객의 목소리를 적극적으로 듣고 반영하며, 고객 경험에 책임감을 느낍니다. "
        "다만 고객이 말한 만족에 머물러, 고객도 예상하지 못한 새로운 해법까지는 가지 못합니다.",
        "Actively gathers what customers say and uses it in decisions, and feels responsible for their "
        "experience. Stops at the satisfaction customers can name, so rarely reaches solutions they did "
        "not expect.",
        [
            (
                "실제 사용자와 프로토타입을 시험하고 그 결과로 고친다.",
                "Tests prototypes with real users and changes them based on what happens.",
            ),
            (
                "인터뷰, 설문, 사용 데이터를 꾸준히 모으고 개선 목록에 올린다.",
                "Collects interviews, surveys and usage data regularly and turns them into improvements.",
            ),
            (
                "내부 목표와 고객 만족이 부딪히면 고객 쪽을 고른다.",
                "When internal targets and customer satisfaction conflict, sides with the customer.",
            ),
        ],
    ),
    (
        3,
        "고객과 협업",
        "Collaboration",
        "고객이 모든 결정의 한가운데에 있습니다. 아이디어에서 출시, 출시 후까지 고객과 함께 빠르게 검증하며, "
        "문제의 뿌리를 찾아 고객도 떠올리지 못한 대안을 내놓습니다.",
        "The customer sits at the centre of every decision. Customers take part from the first idea to "
        "launch and beyond, with fast checks instead of assumptions, and digging to the root cause leads "
        "to options customers had not imagined.",
        [
            (
                "아이디어 단계부터 출시 후 지원까지 고객을 참여시킨다.",
                "Involves customers from the idea stage through launch and after-launch support.",
            ),
            (
                "짐작 대신 고객과 짧고 빠른 실험으로 가설을 확인한다.",
                "Checks assumptions with short, quick experiments alongside customers.",
            ),
            (
                "겉으로 드러난 요청 뒤의 근본 원인을 찾아 새로운 대안을 제안한다.",
                "Looks past the stated request to the underlying cause and proposes new options.",
            ),
        ],
    ),
    (
        4,
        "고객 옹호",
        "Advocacy",
        "고객의 상황과 맥락을 고객보다 더 잘 압니다. 고객을 거래 상대가 아니라 꼭 성공시켜야 할 동반자로 보고, "
        "당장 이익이 적더라도 고객의 성공을 돕는 변화를 밀고 나갑니다.",
        "Understands the customer's situation and context better than the customer does. Sees customers as "
        "partners whose success matters, not as transactions, and pushes for changes that help them succeed "
        "even when those changes earn less today.",
        [
            (
                "고객의 사용 맥락과 문제를 고객보다 더 구체적으로 설명할 수 있다.",
                "Can describe the customer's context and problems more precisely than the customer can.",
            ),
            (
                "제품과 서비스의 범위를 넘어 고객의 결과를 좋게 할 방법을 찾는다.",
                "Looks for ways to improve the customer's results beyond the product or service itself.",
            ),
            (
                "수익이 덜 나더라도 고객의 성공에 도움이 되는 선택을 옹호한다.",
                "Argues for the option that helps the customer succeed, even when it pays less.",
            ),
        ],
    ),
    (
        5,
        "고객 혁신가",
        "Innovator",
        "고객이 상상하지 못한 해법으로 고객의 삶 자체를 바꾸려 합니다. 여러 자원을 엮어 새로운 가치 구조를 "
        "설계하고, 주변 사람들까지 고객 중심으로 생각하도록 이끕니다.",
        "Sets out to change customers' lives with solutions they could not have imagined. Combines resources "
        "into new ways of creating value, and brings colleagues along so that they too put customers first.",
        [
            (
                "고객의 삶을 바꾸는 사업 구조를 구상하고 필요한 자원을 엮어 낸다.",
                "Designs business models that change customers' lives and pulls together the resources they need.",
            ),
            (
                "고객과 사회에 좋은 영향을 주려는 분명한 의지를 꾸준히 보여 준다.",
                "Shows a steady, visible commitment to a positive impact on customers and society.",
            ),
            (
                "동료들에게 고객이 원하는 가치를 전하고 고객 중심으로 일하도록 영감을 준다.",
                "Spreads what customers value to colleagues and inspires them to work customer-first.",
            ),
        ],
    ),
]
