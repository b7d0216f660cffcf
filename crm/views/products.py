"""The product shelf (产品货架): admins add, edit, retire, import and export products; managers
read it and export it. Others get 404."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, FileField, HiddenField, SelectField, StringField
from wtforms.validators import Optional

from crm import labels
from crm.core.clock import local_today
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.forms import DayField, DomainForm, Form
from crm.models import Product
from crm.services.products import shelf
from crm.services.transfer import shelf_file
from crm.services.transfer.uploads import read_upload
from crm.views.roles import admin_required, manager_required

bp = Blueprint("products", __name__, url_prefix="/admin/products")


class ProductForm(DomainForm):
    name = StringField(_l("Product name"))
    insurer = StringField(_l("Insurer"))
    # The shelf's rules say what is wrong with a value that is not one of these.
    product_type = SelectField(
        _l("Product type"), choices=labels.choices(labels.PRODUCT_TYPE), validate_choice=False
    )
    risk_level = SelectField(
        _l("Risk level"), choices=labels.choices(labels.RISK_LEVEL), validate_choice=False
    )
    term_years = StringField(_l("Term (years)"), description=_l("Leave empty for cover for life."))
    single_premium = BooleanField(_l("Single premium"))
    regular_years = StringField(
        _l("Regular premium terms (years)"),
        description=_l("Paid regularly over these numbers of years, e.g. 3, 5, 10."),
    )
    investment_type = BooleanField(
        _l("Investment-type"),
        description=_l(
            "A sale needs the dual recording, the returns notice and the risk acknowledgement."
        ),
    )
    age_bands = StringField(
        _l("Age bands"),
        description=_l("The ages the call-back hints suggest it for, e.g. 31-40, 61+."),
    )
    active_from = DayField(_l("On sale from"), validators=[Optional()])
    active_to = DayField(_l("On sale to"), validators=[Optional()])
    version = HiddenField()


class ShelfUploadForm(Form):
    file = FileField(_l("Shelf file (CSV or XLSX)"))


def _get_or_404(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        abort(404)
    return product


@bp.route("")
@manager_required
def index():
    return render_template(
        "admin/products.html",
        products=shelf.every_product(),
        today=local_today(),
        band_text=shelf.band_text,
        upload=ShelfUploadForm(),
    )


@bp.route("/new", methods=["GET", "POST"], defaults={"product_id": None})
@bp.route("/<id:product_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(product_id: int | None):
    product = _get_or_404(product_id) if product_id is not None else None
    if request.method == "GET" and product is not None:
        form = ProductForm(obj=product)
        form.product_type.data = product.product_type.value
        form.risk_level.data = product.risk_level.value
        form.term_years.data = "" if product.term_years is None else str(product.term_years)
        form.regular_years.data = ", ".join(str(y) for y in product.regular_terms)
        form.age_bands.data = shelf.band_text(product)
    else:
        form = ProductForm()
    if form.validate_on_submit():
        try:
            if product is None:
                shelf.add_product(current_user, form.domain_data())
            else:
                version = int(form.version.data) if (form.version.data or "").isdigit() else None
                shelf.update_product(current_user, product, form.domain_data(), version)
        except InvalidInput as error:
            db.session.rollback()
            form.show(error)
        else:
            db.session.commit()
            flash(_("Product saved."), "success")
            return redirect(url_for("products.index"))
    if product is not None:
        form.version.data = product.version
    return render_template("admin/product_form.html", form=form, product=product)


@bp.route("/<id:product_id>/<any(retire, reinstate, delete):action>", methods=["POST"])
@admin_required
def change(product_id: int, action: str):
    """Retire a product (it leaves the shelf, the records keep it), put it back, or delete one
    entered by mistake that nothing names."""
    product = _get_or_404(product_id)
    if not Form().validate_on_submit():  # the CSRF token
        abort(400)
    try:
        {
            "retire": shelf.retire_product,
            "reinstate": shelf.reinstate_product,
            "delete": shelf.delete_product,
        }[action](current_user, product)
    except InvalidInput as error:
        db.session.rollback()
        flash(" ".join(str(m) for m in error.errors.values()), "error")
    else:
        db.session.commit()
        flash(
            {
                "retire": _("Product retired: it is no longer offered."),
                "reinstate": _("Product back on the shelf."),
                "delete": _("Product deleted."),
            }[action],
            "success",
        )
    return redirect(url_for("products.index"))


@bp.route("/export.<any(csv, xlsx):kind>")
@manager_required
def export(kind: str):
    if kind == "csv":
        body, mimetype = shelf_file.csv_file(), "text/csv; charset=utf-8"
    else:
        body = shelf_file.xlsx_file()
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    name = f"products-{local_today().isoformat()}.{kind}"
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"}
    )


@bp.route("/import", methods=["POST"])
@admin_required
def import_file():
    """Apply a shelf file, all or nothing: any row that breaks a rule leaves the shelf as it was
    and the page lists each problem by line."""
    form = ShelfUploadForm()
    problems: list = []
    if form.validate_on_submit():
        try:
            name, data = read_upload(request.files.get("file"))
            result = shelf_file.import_shelf(current_user, name, data)
        except InvalidInput as error:
            db.session.rollback()
            flash(" ".join(str(m) for m in error.errors.values()), "error")
        else:
            if result.problems:
                db.session.rollback()
                problems = result.problems
            else:
                db.session.commit()
                flash(
                    _(
                        "Shelf imported: %(added)d added, %(updated)d updated.",
                        added=result.added,
                        updated=result.updated,
                    ),
                    "success",
                )
                return redirect(url_for("products.index"))
    return render_template(
        "admin/products.html",
        products=shelf.every_product(),
        today=local_today(),
        band_text=shelf.band_text,
        upload=form,
        problems=problems,
    ), (422 if problems else 200)
