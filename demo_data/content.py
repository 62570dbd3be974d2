"""What the demo's rows say: model versions, the questions and their answers, the labels."""

from __future__ import annotations

MODEL_VERSIONS = ("chat-v1.0", "chat-v1.1", "chat-v2.0")
# Each question with two good answers and one weak one: the answer always fits the
# question, and a low-quality response gets the weak one, so the exported examples and
# preference pairs read like real data.
CONVERSATIONS = (
    (
        "주문한 상품이 언제 도착하나요?",
        (
            "주문하신 상품은 내일 도착할 예정이에요. 배송 조회 링크를 보내드릴게요.",
            "어제 출고되어 지금 배송 중이에요. 내일 오후까지 도착할 예정입니다.",
            "배송은 보통 며칠 걸려요.",
        ),
    ),
    (
        "환불 절차를 알려주세요.",
        (
            "환불은 마이페이지 > 주문 내역에서 신청하실 수 있어요. 3영업일 안에 처리됩니다.",
            "주문 내역에서 '환불 신청'을 누르시면 돼요. 결제하신 수단으로 3영업일 안에 돌려드려요.",
            "환불은 고객센터 정책에 따라 달라요.",
        ),
    ),
    (
        "비밀번호를 잊어버렸어요. 어떻게 재설정하나요?",
        (
            "로그인 화면의 '비밀번호 찾기'를 누르시면 재설정 메일을 보내드려요.",
            "'비밀번호 찾기'에서 가입하신 이메일을 입력하시면 재설정 링크가 가요. "
            "10분 안에 눌러 주세요.",
            "비밀번호는 다시 만드셔야 해요.",
        ),
    ),
    (
        "요즘 너무 우울해요. 이야기 좀 들어줄래요?",
        (
            "많이 힘드셨겠어요. 천천히 이야기해 주세요, 제가 들을게요.",
            "그런 마음을 말해 주셔서 고마워요. 요즘 어떤 일이 가장 힘드셨어요?",
            "기분 전환을 해 보세요.",
        ),
    ),
    (
        "제 이메일 minsu.kim@example.com 으로 영수증을 보내주세요.",
        (
            "알겠습니다. 영수증을 minsu.kim@example.com 으로 보내드렸어요.",
            "영수증을 말씀하신 이메일로 보냈어요. "
            "몇 분 안에 도착하지 않으면 스팸함도 확인해 주세요.",
            "영수증은 마이페이지에 있어요.",
        ),
    ),
    (
        "상담원 연결해 주세요. 제 번호는 010-1234-5678 입니다.",
        (
            "잠시만 기다려 주세요. 상담원이 010-1234-5678 로 10분 안에 전화드릴게요.",
            "상담원 연결을 요청했어요. 남겨주신 번호로 곧 연락드릴게요.",
            "상담원은 지금 바빠요.",
        ),
    ),
    (
        "Can you summarise my last three orders?",
        (
            "Here is a summary of your last three orders: two were delivered, one ships tomorrow.",
            "Your last three orders: a keyboard (delivered), a mouse (delivered), a stand "
            "(shipping).",
            "You have placed some orders.",
        ),
    ),
    (
        "Please call me back at +1 415-555-0134.",
        (
            "Of course. An agent will call you at +1 415-555-0134 within the hour.",
            "I have booked a call back to +1 415-555-0134; expect it today before 5 pm.",
            "Sorry, I can't help with that.",
        ),
    ),
)
PROMPTS = tuple(prompt for prompt, _ in CONVERSATIONS)
# A response is a good one from this latent quality on, else the weak one.
GOOD_ANSWER_QUALITY = 6.5

# How users spell a reaction: the staging models normalise all of these.
LIKE_SPELLINGS = (
    "like",
    "like",
    "like",
    "Like",
    " LIKE ",
    "liked",
    "thumbs_up",
    "👍",
    "+1",
    "positive",
)
DISLIKE_SPELLINGS = (
    "dislike",
    "dislike",
    "dislike",
    "Dislike",
    " DISLIKE ",
    "disliked",
    "thumbs_down",
    "👎",
    "-1",
    "negative",
)
# Reactions that no spelling in the label map (seeds/) matches, an empty one among them.
UNKNOWN_LABELS = ("meh", "", "love it", "??")
