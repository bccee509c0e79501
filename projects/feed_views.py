"""The calendar feed: the secret iCal address itself, and its owner's controls."""

from django.contrib import messages
from django.http import HttpResponse
from django.utils.translation import gettext
from django.views.generic import View

from portal import feedback
from portal.base_views import PublicMixin, SignedInMixin
from projects import feed as calendar_feed

#: The profile page's calendar section, where the person returns after changing the address.
CALENDAR_ANCHOR = "calendar-heading"


class CalendarFeedView(PublicMixin, View):
    """The due dates a person may see, as an iCal calendar.

    Public on purpose: calendar applications cannot sign in, so the long random token in the
    address authenticates instead, and names whose grants apply. It carries partner data
    only for a valid token of an active person, computed through the access layer at each
    fetch; any other token answers 404 (and is audited).
    """

    http_method_names = ["get", "head"]

    def get(self, request, token: str):
        feed = calendar_feed.open_feed(token)
        body = calendar_feed.calendar_for(feed, base_url=request.build_absolute_uri("/"))
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="due-dates.ics"'
        # The address is a secret and the content follows the grants: never cache either.
        response["Cache-Control"] = "no-store"
        response["X-Robots-Tag"] = "noindex"
        return response


class CalendarFeedManageView(SignedInMixin, View):
    """Create, rotate or revoke the signed-in person's own calendar address."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        operation = request.POST.get("operation", "")
        # The person is sent back to the calendar section: its message is shown there.
        here = feedback.at(CALENDAR_ANCHOR)
        if operation == "create":
            calendar_feed.create_calendar_feed(actor=request.user)
            messages.success(
                request,
                gettext(
                    "Your calendar address is ready. Keep it secret: anyone who has it sees "
                    "your due dates."
                ),
                extra_tags=here,
            )
        elif operation == "rotate":
            calendar_feed.rotate_calendar_feed(actor=request.user)
            messages.success(
                request,
                gettext("Your calendar address was replaced; the old one no longer works."),
                extra_tags=here,
            )
        elif operation == "revoke":
            if calendar_feed.revoke_calendar_feed(actor=request.user):
                messages.success(
                    request, gettext("Your calendar address was revoked."), extra_tags=here
                )
            else:
                messages.info(request, gettext("You had no calendar address."), extra_tags=here)
        else:
            messages.error(
                request,
                gettext("Choose whether to create, rotate or revoke your address."),
                extra_tags=here,
            )
        return feedback.redirect_to("portal:profile", CALENDAR_ANCHOR)
