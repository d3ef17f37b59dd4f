"""AWS's API request limits for Elastic Load Balancing, Amazon ECS and CloudWatch, as
token buckets: which buckets each operation draws on, and how big they are. One table for
two users: the simulated AWS enforces it (sandbox/api_limits.py: tokens, refill on the
clock, accounting), and bluegreen's own calls keep under it (aws/pacer.py).

The numbers (per account and Region; capacity = burst, refill = sustained per second):

Elastic Load Balancing (ELBv2), "Request throttling for the Elastic Load Balancing API",
https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-throttling.html
    account level, every action ....................................... 40   10
    Non-mutating: Describe* ........................................... 40   10
    Registration: RegisterTargets, DeregisterTargets .................. 20    4
    Resource-intensive: CreateLoadBalancer, SetSubnets ................ 10    0.2
    Mutating: every other action (ModifyListener, ModifyRule,
      CreateTargetGroup, ModifyTargetGroupAttributes…) ................ 20    3
    (ELBv1 has buckets of its own; the sandbox takes every ELB call as ELBv2. Trust-store
    actions have uncategorized buckets: here they count as mutating, the smaller.)

Amazon ECS, "Request throttling for the Amazon ECS API",
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html
    Cluster read: DescribeClusters, ListClusters ...................... 50   20
    Cluster modify: CreateCluster, DeleteCluster, UpdateCluster… ...... 20    1
    Task definition read: DescribeTaskDefinition, ListTaskDefinitions… 50   20
    Task definition modify: RegisterTaskDefinition, Deregister… ....... 20    1
    Task definition deletion: DeleteTaskDefinitions .................... 5    1
    Cluster resource read: DescribeTasks, ListTasks… ................. 100   20
    Cluster resource modify: RunTask, StartTask, StopTask… ........... 100   40
    Service read: DescribeServices, ListServices ..................... 100   20
    Service modify: CreateService, UpdateService, DeleteService ....... 50    5
    Tag read: ListTagsForResource 50 20; Tag modify: TagResource, UntagResource 20 10;
    capacity providers, account settings, service deployments and revisions, task
    protection, ListServicesByNamespace: as the page lists them (ECS_BY_OPERATION below).
    Not published: the task-set actions. Chosen conservatively: DescribeTaskSets draws on
    Service read, CreateTaskSet / UpdateTaskSet / DeleteTaskSet /
    UpdateServicePrimaryTaskSet on Service modify (shared buckets: stricter than buckets
    of their own); any other unlisted action on a bucket of 20, refill 1.

CloudWatch: a rate per operation, "Amazon CloudWatch endpoints and quotas",
https://docs.aws.amazon.com/general/latest/gr/cw_region.html (and the CloudWatch User
Guide's "CloudWatch service quotas"). A rate of N per second is a bucket of N refilled at N.
    GetMetricData ..................... 50  (the quotas table now says 500, older editions
                                             of the guide 50: the smaller is kept)
    DescribeAlarms 9, DescribeAlarmsForMetric 9, DescribeAlarmHistory 3 (now 20; was 3),
    PutMetricAlarm 3, DeleteAlarms 3, SetAlarmState 3, EnableAlarmActions 3,
    DisableAlarmActions 3, ListMetrics 25, GetMetricStatistics 400, PutMetricData 500,
    ListTagsForResource 10, TagResource 20, UntagResource 20.
    Not published here: any other CloudWatch action — chosen conservatively: 3 per second.
"""

from __future__ import annotations

from dataclasses import dataclass

ELB, ECS, CLOUDWATCH = "elasticloadbalancing", "ecs", "monitoring"  # signing names


@dataclass(frozen=True)
class Bucket:
    service: str  # the signing name
    name: str
    capacity: float  # the burst
    refill: float  # tokens per second: the sustained rate


def _buckets(
    service: str, table: dict[str, tuple[float, float, tuple[str, ...]]]
) -> dict[str, Bucket]:
    """operation → bucket, from {bucket name: (capacity, refill, operations)}."""
    return {
        operation: Bucket(service, name, capacity, refill)
        for name, (capacity, refill, operations) in table.items()
        for operation in operations
    }


ELB_ACCOUNT = Bucket(ELB, "account level (every action)", 40, 10)
ELB_NON_MUTATING = Bucket(ELB, "non-mutating (Describe*)", 40, 10)
ELB_MUTATING = Bucket(ELB, "mutating", 20, 3)
ELB_BY_OPERATION = _buckets(
    ELB,
    {
        "registration": (20, 4, ("RegisterTargets", "DeregisterTargets")),
        "resource-intensive": (10, 0.2, ("CreateLoadBalancer", "SetSubnets")),
    },
)
ECS_BY_OPERATION = _buckets(
    ECS,
    {
        "cluster modify": (
            20,
            1,
            (
                "CreateCluster",
                "DeleteCluster",
                "PutClusterCapacityProviders",
                "UpdateCluster",
                "UpdateClusterSettings",
            ),
        ),
        "cluster read": (50, 20, ("DescribeClusters", "ListClusters")),
        "task definition modify": (20, 1, ("DeregisterTaskDefinition", "RegisterTaskDefinition")),
        "task definition read": (
            50,
            20,
            ("DescribeTaskDefinition", "ListTaskDefinitions", "ListTaskDefinitionFamilies"),
        ),
        "task definition deletion": (5, 1, ("DeleteTaskDefinitions",)),
        "capacity provider modify": (
            10,
            1,
            ("CreateCapacityProvider", "DeleteCapacityProvider", "UpdateCapacityProvider"),
        ),
        "capacity provider read": (50, 20, ("DescribeCapacityProviders",)),
        "tag modify": (20, 10, ("TagResource", "UntagResource")),
        "tag read": (50, 20, ("ListTagsForResource",)),
        "setting modify": (
            10,
            1,
            ("DeleteAccountSetting", "PutAccountSetting", "PutAccountSettingDefault"),
        ),
        "setting read": (50, 20, ("ListAccountSettings",)),
        "cluster resource modify": (
            100,
            40,
            (
                "DeleteAttributes",
                "DeregisterContainerInstance",
                "ExecuteCommand",
                "PutAttributes",
                "RunTask",
                "StartTask",
                "StopTask",
                "UpdateContainerAgent",
                "UpdateContainerInstancesStates",
            ),
        ),
        "cluster resource read": (
            100,
            20,
            (
                "DescribeContainerInstances",
                "DescribeTasks",
                "ListAttributes",
                "ListContainerInstances",
                "ListTasks",
            ),
        ),
        "agent modify": (
            200,
            120,
            (
                "RegisterContainerInstance",
                "SubmitAttachmentStateChanges",
                "SubmitContainerStateChange",
                "SubmitTaskStateChange",
            ),
        ),
        # + the task-set writes: not published, shared with the service's (chosen)
        "service modify": (
            50,
            5,
            (
                "CreateService",
                "DeleteService",
                "UpdateService",
                "CreateTaskSet",
                "UpdateTaskSet",
                "DeleteTaskSet",
                "UpdateServicePrimaryTaskSet",
            ),
        ),
        # + DescribeTaskSets: not published, shared with the service's reads (chosen)
        "service read": (100, 20, ("DescribeServices", "ListServices", "DescribeTaskSets")),
        "service deployment": (50, 20, ("DescribeServiceDeployments", "ListServiceDeployments")),
        "service revision": (50, 20, ("DescribeServiceRevisions",)),
        "task protection": (200, 80, ("UpdateTaskProtection", "GetTaskProtection")),
        "cluster service resource read": (10, 1, ("ListServicesByNamespace",)),
    },
)
ECS_UNLISTED = Bucket(ECS, "unlisted actions (not published)", 20, 1)
CLOUDWATCH_RATES: dict[str, float] = {
    "GetMetricData": 50,
    "DescribeAlarms": 9,
    "DescribeAlarmsForMetric": 9,
    "DescribeAlarmHistory": 3,
    "PutMetricAlarm": 3,
    "DeleteAlarms": 3,
    "SetAlarmState": 3,
    "EnableAlarmActions": 3,
    "DisableAlarmActions": 3,
    "ListMetrics": 25,
    "GetMetricStatistics": 400,
    "PutMetricData": 500,
    "ListTagsForResource": 10,
    "TagResource": 20,
    "UntagResource": 20,
}
CLOUDWATCH_UNLISTED_RATE = 3.0  # not published here: chosen conservatively


def buckets_for(service: str, operation: str) -> tuple[Bucket, ...]:
    """The buckets a call draws on; () for a service without limits here."""
    if service == ELB:
        if operation in ELB_BY_OPERATION:
            return (ELB_ACCOUNT, ELB_BY_OPERATION[operation])
        category = ELB_NON_MUTATING if operation.startswith("Describe") else ELB_MUTATING
        return (ELB_ACCOUNT, category)
    if service == ECS:
        return (ECS_BY_OPERATION.get(operation, ECS_UNLISTED),)
    if service == CLOUDWATCH:
        rate = CLOUDWATCH_RATES.get(operation, CLOUDWATCH_UNLISTED_RATE)
        return (Bucket(CLOUDWATCH, operation, rate, rate),)
    return ()


def bucket_named(service: str, name: str) -> Bucket:
    """A bucket by its name, as the tables define it."""
    if service == CLOUDWATCH:
        return buckets_for(CLOUDWATCH, name)[0]
    every = [ELB_ACCOUNT, ELB_NON_MUTATING, ELB_MUTATING, ECS_UNLISTED]
    every += [*ELB_BY_OPERATION.values(), *ECS_BY_OPERATION.values()]
    return next(b for b in every if (b.service, b.name) == (service, name))
