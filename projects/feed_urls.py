from django.urls import path

from projects import feed_views

urlpatterns = [
    path("manage/", feed_views.CalendarFeedManageView.as_view(), name="manage"),
    path("<str:token>.ics", feed_views.CalendarFeedView.as_view(), name="feed"),
]
