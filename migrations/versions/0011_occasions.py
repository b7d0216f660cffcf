"""occasions: lunar birthdays on the dossier, the occasion of a greeting SMS, greeting templates

Revision ID: 0011_occasions
Revises: 0010_product_shelf
Create Date: 2026-12-05 03:10:00

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_occasions'
down_revision = '0010_product_shelf'
branch_labels = None
depends_on = None


# (key, locale, minimum willingness, body): one greeting per occasion and language
# (crm.services.outreach.sms_templates.occasion_template), personal from willingness 60.
TEMPLATES = [
    ("occasion.birthday", "zh_CN", 0, "{greeting}您好！今天是您的生日，祝您生日快乐、身体健康、万事顺意！——{owner}"),
    ("occasion.birthday", "en", 0, "Dear {greeting}, happy birthday! Wishing you good health and a wonderful year ahead. {owner}"),
    ("occasion.birthday.personal", "zh_CN", 60, "{greeting}，生日快乐！又长一岁，愿您和家人平安喜乐。有空来网点坐坐，给您备了一份小礼物。——{owner}"),
    ("occasion.birthday.personal", "en", 60, "Dear {greeting}, happy birthday! May you and your family have a joyful year. Drop by the branch: a small present is waiting for you. {owner}"),
    ("occasion.spring_festival", "zh_CN", 0, "{greeting}您好！新春佳节，恭祝您和家人新年快乐、阖家幸福、万事如意！——{owner}"),
    ("occasion.spring_festival", "en", 0, "Dear {greeting}, happy Spring Festival! Wishing you and your family a happy and prosperous new year. {owner}"),
    ("occasion.spring_festival.personal", "zh_CN", 60, "{greeting}，过年好！感谢您一年来的信任，给您和家人拜个年，祝新春吉祥、身体健康！——{owner}"),
    ("occasion.spring_festival.personal", "en", 60, "Dear {greeting}, happy new year! Thank you for your trust this past year; my best wishes to you and your family. {owner}"),
    ("occasion.lantern", "zh_CN", 0, "{greeting}您好！元宵佳节，祝您和家人团团圆圆、幸福美满！——{owner}"),
    ("occasion.lantern", "en", 0, "Dear {greeting}, happy Lantern Festival! May your family be together and happy. {owner}"),
    ("occasion.qingming", "zh_CN", 0, "{greeting}您好！清明时节，出行注意安全，祝您和家人安康。——{owner}"),
    ("occasion.qingming", "en", 0, "Dear {greeting}, for Qingming: travel safely, and our best wishes to you and your family. {owner}"),
    ("occasion.dragon_boat", "zh_CN", 0, "{greeting}您好！端午将至，祝您和家人端午安康！——{owner}"),
    ("occasion.dragon_boat", "en", 0, "Dear {greeting}, best wishes for the Dragon Boat Festival to you and your family. {owner}"),
    ("occasion.mid_autumn", "zh_CN", 0, "{greeting}您好！中秋佳节，祝您和家人花好月圆、阖家团圆！——{owner}"),
    ("occasion.mid_autumn", "en", 0, "Dear {greeting}, happy Mid-Autumn Festival! May your family gather under a full moon. {owner}"),
    ("occasion.mid_autumn.personal", "zh_CN", 60, "{greeting}，中秋快乐！月圆人团圆，感谢您一直以来的支持，祝您和家人幸福安康。——{owner}"),
    ("occasion.mid_autumn.personal", "en", 60, "Dear {greeting}, happy Mid-Autumn! Thank you for your support all along; every happiness to you and your family. {owner}"),
    ("occasion.double_ninth", "zh_CN", 0, "{greeting}您好！重阳佳节，祝您福寿安康、身体健朗！——{owner}"),
    ("occasion.double_ninth", "en", 0, "Dear {greeting}, best wishes for the Double Ninth Festival: good health and a long, happy life. {owner}"),
    ("occasion.national_day", "zh_CN", 0, "{greeting}您好！国庆佳节，祝您假期愉快、出行平安！——{owner}"),
    ("occasion.national_day", "en", 0, "Dear {greeting}, happy National Day! Enjoy the holiday and travel safely. {owner}"),
    ("occasion.policy_anniversary", "zh_CN", 0, "{greeting}您好！今天是您保单生效的周年日，感谢您的信任。保障如有需要调整，欢迎随时联系{owner}。"),
    ("occasion.policy_anniversary", "en", 0, "Dear {greeting}, today is your policy's anniversary: thank you for your trust. If your cover needs a review, {owner} is glad to help."),
]


def upgrade():
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('birthday_is_lunar', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('lunar_birth_month', sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column('lunar_birth_day', sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column('lunar_birth_leap', sa.Boolean(), nullable=True))

    with op.batch_alter_table('experience', schema=None) as batch_op:
        batch_op.add_column(sa.Column('occasion', sa.String(length=40), nullable=True))

    now = datetime.now(UTC)
    sqlite = op.get_bind().dialect.name == "sqlite"
    template = sa.table(
        "sms_template",
        sa.column("key"), sa.column("locale"), sa.column("min_willingness"), sa.column("body"),
        sa.column("active"), sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(template, [
        {
            "key": key, "locale": locale, "min_willingness": minimum, "body": body,
            "active": True, "updated_at": now.replace(tzinfo=None) if sqlite else now,
        }
        for key, locale, minimum, body in TEMPLATES
    ])


def downgrade():
    op.execute("DELETE FROM sms_template WHERE key LIKE 'occasion.%'")
    with op.batch_alter_table('experience', schema=None) as batch_op:
        batch_op.drop_column('occasion')

    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('lunar_birth_leap')
        batch_op.drop_column('lunar_birth_day')
        batch_op.drop_column('lunar_birth_month')
        batch_op.drop_column('birthday_is_lunar')
