from django.urls import path

from projects import views

app_name = "projects"

item = "<int:pk>/<str:item>/<int:item_pk>"

urlpatterns = [
    path("", views.ProjectListView.as_view(), name="list"),
    path("new/", views.ProjectCreateView.as_view(), name="create"),
    path("<int:pk>/", views.ProjectDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.ProjectEditView.as_view(), name="edit"),
    path("<int:pk>/participants/add/", views.ParticipantAddView.as_view(), name="participant-add"),
    path(
        "<int:pk>/participants/<int:participant_pk>/remove/",
        views.ParticipantRemoveView.as_view(),
        name="participant-remove",
    ),
    path("<int:pk>/reviewers/add/", views.ReviewerAssignView.as_view(), name="reviewer-assign"),
    path(
        "<int:pk>/work-packages/add/", views.WorkPackageAddView.as_view(), name="work-package-add"
    ),
    path("<int:pk>/milestones/add/", views.MilestoneAddView.as_view(), name="milestone-add"),
    path("<int:pk>/deliverables/add/", views.DeliverableAddView.as_view(), name="deliverable-add"),
    path(
        "<int:pk>/contributions/add/",
        views.ContributionAddView.as_view(),
        name="contribution-add",
    ),
    path("<int:pk>/injects/add/", views.InjectAddView.as_view(), name="inject-add"),
    path(f"{item}/due-date/", views.DueDateView.as_view(), name="item-due-date"),
    path(f"{item}/submit/", views.SubmitItemView.as_view(), name="item-submit"),
    path(f"{item}/review/", views.ReviewItemView.as_view(), name="item-review"),
    path(
        f"{item}/evidence/<int:resource_pk>/open/",
        views.OpenEvidenceView.as_view(),
        name="evidence-open",
    ),
    path(
        f"{item}/evidence/<int:resource_pk>/close/",
        views.CloseEvidenceView.as_view(),
        name="evidence-close",
    ),
    path("<int:pk>/activate/", views.ActivateView.as_view(), name="activate"),
    path("<int:pk>/suspend/", views.SuspendView.as_view(), name="suspend"),
    path("<int:pk>/resume/", views.ResumeView.as_view(), name="resume"),
    path("<int:pk>/complete/", views.CompleteView.as_view(), name="complete"),
    path("<int:pk>/cancel/", views.CancelView.as_view(), name="cancel"),
]
