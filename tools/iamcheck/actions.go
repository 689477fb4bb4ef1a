package main

// kind is the kind of resource an IAM action is granted on.
type kind string

const (
	kObject kind = "object" // objects of a bucket the function uses, under each of its *_PREFIX prefixes
	kBucket kind = "bucket" // a bucket the function uses
	kTable  kind = "table"  // a DynamoDB table the function uses
	kQueue  kind = "queue"  // an SQS queue the function uses
	kStream kind = "stream" // a Kinesis stream the function uses
	kAny    kind = "*"      // the action has no resource-level permissions
)

// need is one IAM action on one kind of resource.
type need struct {
	Action string
	On     kind
}

// operationActions maps an SDK operation to what the caller's role needs: mostly
// the action of the same name on the resource called, with these exceptions
// (Service Authorization Reference, "Actions, resources, and condition keys"):
//   - s3 HeadObject is authorized as s3:GetObject;
//   - s3 GetObject/HeadObject also need s3:ListBucket on the bucket when the code
//     tells a missing key from a denied one: without it S3 answers 403 for a missing
//     key instead of 404 (S3 API reference, GetObject, "Permissions"), and this
//     project's code treats NoSuchKey/NotFound as "missing";
//   - s3 ListObjectsV2 is s3:ListBucket on the bucket;
//   - dynamodb TransactWriteItems is authorized per item, by the item's action (see
//     fieldActions); TransactGetItems as dynamodb:GetItem;
//   - sqs *Batch operations are authorized as their single-message action.
//
// SSE-KMS and object tagging add actions through fieldActions. An operation missing
// here is an error, so that a new call cannot go unchecked.
var operationActions = map[Call][]need{
	{"s3", "GetObject"}:     {{"s3:GetObject", kObject}, {"s3:ListBucket", kBucket}},
	{"s3", "HeadObject"}:    {{"s3:GetObject", kObject}, {"s3:ListBucket", kBucket}},
	{"s3", "PutObject"}:     {{"s3:PutObject", kObject}},
	{"s3", "DeleteObject"}:  {{"s3:DeleteObject", kObject}},
	{"s3", "ListObjectsV2"}: {{"s3:ListBucket", kBucket}},

	{"dynamodb", "GetItem"}:            {{"dynamodb:GetItem", kTable}},
	{"dynamodb", "BatchGetItem"}:       {{"dynamodb:BatchGetItem", kTable}},
	{"dynamodb", "PutItem"}:            {{"dynamodb:PutItem", kTable}},
	{"dynamodb", "UpdateItem"}:         {{"dynamodb:UpdateItem", kTable}},
	{"dynamodb", "DeleteItem"}:         {{"dynamodb:DeleteItem", kTable}},
	{"dynamodb", "Query"}:              {{"dynamodb:Query", kTable}},
	{"dynamodb", "Scan"}:               {{"dynamodb:Scan", kTable}},
	{"dynamodb", "BatchWriteItem"}:     {{"dynamodb:BatchWriteItem", kTable}},
	{"dynamodb", "TransactGetItems"}:   {{"dynamodb:GetItem", kTable}},
	{"dynamodb", "TransactWriteItems"}: {}, // per item: fieldActions

	{"sqs", "SendMessage"}:                  {{"sqs:SendMessage", kQueue}},
	{"sqs", "SendMessageBatch"}:             {{"sqs:SendMessage", kQueue}},
	{"sqs", "ReceiveMessage"}:               {{"sqs:ReceiveMessage", kQueue}},
	{"sqs", "DeleteMessage"}:                {{"sqs:DeleteMessage", kQueue}},
	{"sqs", "DeleteMessageBatch"}:           {{"sqs:DeleteMessage", kQueue}},
	{"sqs", "ChangeMessageVisibility"}:      {{"sqs:ChangeMessageVisibility", kQueue}},
	{"sqs", "ChangeMessageVisibilityBatch"}: {{"sqs:ChangeMessageVisibility", kQueue}},
	{"sqs", "GetQueueAttributes"}:           {{"sqs:GetQueueAttributes", kQueue}},
	{"sqs", "GetQueueUrl"}:                  {{"sqs:GetQueueUrl", kQueue}},

	{"kinesis", "PutRecord"}:             {{"kinesis:PutRecord", kStream}},
	{"kinesis", "PutRecords"}:            {{"kinesis:PutRecords", kStream}},
	{"kinesis", "GetRecords"}:            {{"kinesis:GetRecords", kStream}},
	{"kinesis", "GetShardIterator"}:      {{"kinesis:GetShardIterator", kStream}},
	{"kinesis", "ListShards"}:            {{"kinesis:ListShards", kStream}},
	{"kinesis", "DescribeStreamSummary"}: {{"kinesis:DescribeStreamSummary", kStream}},
}

// fieldActions maps a set field of an SDK type to what it adds to the call's needs.
// A field set to an empty value still counts: the check is static and conservative.
var fieldActions = map[Call][]need{
	{"dynamodb", "TransactWriteItem.Put"}:            {{"dynamodb:PutItem", kTable}},
	{"dynamodb", "TransactWriteItem.Update"}:         {{"dynamodb:UpdateItem", kTable}},
	{"dynamodb", "TransactWriteItem.Delete"}:         {{"dynamodb:DeleteItem", kTable}},
	{"dynamodb", "TransactWriteItem.ConditionCheck"}: {{"dynamodb:ConditionCheckItem", kTable}},
	{"s3", "PutObjectInput.Tagging"}:                 {{"s3:PutObjectTagging", kObject}},
	{"s3", "PutObjectInput.ACL"}:                     {{"s3:PutObjectAcl", kObject}},
	// SSE-KMS needs kms:GenerateDataKey (and kms:Decrypt to read) on the key, which
	// this check does not model (the bucket uses SSE-S3): setting these is an error.
	{"s3", "PutObjectInput.SSEKMSKeyId"}:          nil,
	{"s3", "PutObjectInput.ServerSideEncryption"}: nil,
}
